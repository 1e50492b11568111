import type { MollifierRecorder } from "@mollifier/telemetry";
import type { AdaptiveConcurrencyOptions } from "./adaptive-concurrency.js";
import type { DrainEntry, DrainSource } from "./drain-source.js";
import type { DrainHandler, TerminalFailure } from "./entry-processor.js";
import type { LoopBackoffOptions } from "./loop-backoff.js";
import type { RateLimitResult } from "./rate-limiter.js";

/** Default entries leased-but-unfinished per process. */
export const DEFAULT_CONCURRENCY = 10;
/** Default lease length asked of the source. */
export const DEFAULT_LEASE_MS = 30_000;
/** Default sleep when no entry is ready. */
export const DEFAULT_IDLE_DELAY_MS = 250;
/** Default interval of the lease reaper and due-retry promoter. */
export const DEFAULT_MAINTENANCE_INTERVAL_MS = 1_000;
/** Default most leases reaped (and retries promoted) per pass. */
export const DEFAULT_MAINTENANCE_BATCH_SIZE = 500;
/** Default time `stop()` waits for in-flight handlers. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** A shared cap on materialisations; {@link SharedRateLimiter} is the Redis one. */
export interface DrainRateLimiter {
  readonly ratePerSecond: number;
  acquire(wanted: number): Promise<RateLimitResult>;
}

/** Options of {@link Drainer}. */
export interface DrainerOptions<Entry extends DrainEntry> {
  /** Where entries come from; a `MollifierBuffer` satisfies it. */
  source: DrainSource<Entry>;
  /** Materialises one entry. Must be idempotent on the run id: a crash can deliver an entry twice. */
  handler: DrainHandler<Entry>;
  /**
   * Classifies a handler (or `onTerminalFailure`) error: `true` retries it
   * with the source's backoff, `false` fails the entry at once.
   * @default () => true
   */
  isRetryable?: (error: unknown, entry: Entry) => boolean;
  /**
   * Called before an entry is failed (non-retryable error or attempts
   * exhausted), e.g. to write a failed run row. If it throws a retryable
   * error the entry is retried instead of failed.
   * @default undefined
   */
  onTerminalFailure?: (failure: TerminalFailure<Entry>) => Promise<void>;
  /**
   * Most entries leased-but-unfinished in this process; the ceiling when
   * `adaptive` is on.
   * @default 10
   */
  concurrency?: number;
  /**
   * Entries an org (of weight 1) may take per scheduling round, and an env
   * per turn inside its org.
   * @default 10
   */
  quantum?: number;
  /**
   * Per-org weights for the fair scheduler; unlisted orgs weigh 1.
   * @default {}
   */
  orgWeights?: Readonly<Record<string, number>>;
  /**
   * Shared cap on materialisations per second, e.g. a `SharedRateLimiter`.
   * @default undefined (no cap)
   */
  rateLimiter?: DrainRateLimiter;
  /**
   * Adaptive concurrency (AIMD on handler latency and error rate); `false`
   * runs at a fixed `concurrency`.
   * @default false
   */
  adaptive?: false | Omit<AdaptiveConcurrencyOptions, "maxConcurrency" | "clock">;
  /**
   * Lease length asked of the source, in ms.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * How often a running handler's lease is extended.
   * @default leaseMs / 3
   */
  leaseExtendIntervalMs?: number;
  /**
   * Sleep when no entry is ready, in ms; `stop()` cuts it short.
   * @default 250
   */
  idleDelayMs?: number;
  /**
   * Interval of the lease reaper and due-retry promoter, in ms.
   * @default 1000
   */
  maintenanceIntervalMs?: number;
  /**
   * Most expired leases reaped (and due retries promoted) per call; a full
   * batch runs the next pass at once.
   * @default 500
   */
  maintenanceBatchSize?: number;
  /**
   * Backoff of the loops after errors (e.g. Redis down).
   * @default { baseMs: 100, maxMs: 5000 }
   */
  backoff?: LoopBackoffOptions;
  /**
   * `stop()`'s default wait for in-flight handlers, in ms.
   * @default 30000
   */
  stopTimeoutMs?: number;
  /**
   * Where drained, retried, failed, reaped, drainLimits and degraded events go.
   * @default noopRecorder
   */
  recorder?: MollifierRecorder;
  /**
   * Clock in epoch ms (time in buffer, handler durations, adaptive windows).
   * @default Date.now
   */
  clock?: () => number;
}

/** What `stop()` resolves to. */
export type DrainerStopResult =
  | { outcome: "stopped" }
  /** Handlers still running when the timeout passed; their leases are no longer extended. */
  | { outcome: "timed_out"; inFlight: number };
