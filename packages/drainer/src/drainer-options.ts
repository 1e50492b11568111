import { type MollifierRecorder, noopRecorder } from "@mollifier/telemetry";
import type { AdaptiveConcurrencyOptions } from "./adaptive-concurrency.js";
import type { CircuitBreakerOptions } from "./circuit-breaker.js";
import { isDependencyUnavailable } from "./dependency-unavailable.js";
import type { DrainEntry, DrainSource } from "./drain-source.js";
import { drainerOptionChecks, requireInteger, requireNumber } from "./drainer-error.js";
import type { DrainHandler } from "./entry-processor.js";
import { DEFAULT_QUANTUM } from "./fair-scheduler.js";
import { LoopBackoff, type LoopBackoffOptions } from "./loop-backoff.js";
import type { RateLimitResult } from "./rate-limiter.js";
import type { TerminalFailureHook } from "./terminal-failure.js";

/** Default handlers running at once per process. */
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
   * Classifies a handler error as "the database cannot be reached" rather
   * than a failure of this run. Such an error never spends an attempt: the
   * entry keeps its lease and waits on the circuit breaker, leasing pauses
   * while the circuit is open, and the handler runs again once a probe gets
   * through. Checked before `isRetryable`.
   * @default isDependencyUnavailable (network errors, PostgreSQL's connection
   * and shutdown states, the `pg` client's words for a lost connection)
   */
  isUnavailable?: (error: unknown, entry: Entry) => boolean;
  /**
   * The circuit breaker over the handler's dependency, fed by the outcomes
   * `isUnavailable` classifies.
   * @default { failureThreshold: 3, openMs: 1_000, maxOpenMs: 15_000 }
   */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * The one place every terminal failure reaches, e.g. to write a failed run
   * row: a handler error that is not retryable (`terminal`) or out of attempts
   * (`attempts_exhausted`), before the entry is failed (a retryable error
   * thrown here retries the entry instead); and, once the source has failed
   * it, an entry whose leases expired past the attempt bound
   * (`lease_expired`) or that could not be decoded (`invalid_entry`) (an error
   * thrown here is reported as `degraded`; the FAILED record stays).
   * @default undefined
   */
  onTerminalFailure?: TerminalFailureHook<Entry>;
  /**
   * Most handlers running at once in this process; the ceiling when
   * `adaptive` is on. A finished handler's slot is reused before its ack is
   * answered, with at most twice as many acks unanswered.
   * @default 10
   */
  concurrency?: number;
  /**
   * Entries an org (of weight 1) may take per scheduling round, and an env
   * per turn inside its org. It is also the most one lease call takes, so a
   * larger quantum means fewer, larger lease calls and a coarser fairness grain.
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

/** {@link DrainerOptions} with every default applied and every value checked. */
export interface ResolvedDrainerOptions<Entry extends DrainEntry> extends DrainerOptions<Entry> {
  readonly concurrency: number;
  readonly quantum: number;
  readonly leaseMs: number;
  readonly leaseExtendIntervalMs: number;
  readonly idleDelayMs: number;
  readonly maintenanceIntervalMs: number;
  readonly maintenanceBatchSize: number;
  readonly stopTimeoutMs: number;
  readonly isRetryable: (error: unknown, entry: Entry) => boolean;
  readonly isUnavailable: (error: unknown, entry: Entry) => boolean;
  readonly recorder: MollifierRecorder;
  readonly clock: () => number;
}

/** Applies the defaults; throws `INVALID_OPTIONS` naming the first invalid option. */
export function resolveDrainerOptions<Entry extends DrainEntry>(
  options: DrainerOptions<Entry>,
): ResolvedDrainerOptions<Entry> {
  const check = drainerOptionChecks("DrainerOptions");
  check.object("source", options.source);
  check.function("handler", options.handler);
  const leaseMs = requireInteger("leaseMs", options.leaseMs ?? DEFAULT_LEASE_MS, 1);
  const leaseExtendIntervalMs = requireNumber(
    "leaseExtendIntervalMs",
    options.leaseExtendIntervalMs ?? Math.max(1, Math.floor(leaseMs / 3)),
    0,
  );
  if (leaseExtendIntervalMs >= leaseMs) {
    check.fail("leaseExtendIntervalMs", `shorter than leaseMs (${leaseMs})`, leaseExtendIntervalMs);
  }
  new LoopBackoff(options.backoff); // validates the backoff options now, not on the first error
  if (options.isUnavailable !== undefined) check.function("isUnavailable", options.isUnavailable);
  const breaker = options.circuitBreaker;
  if (breaker !== undefined) {
    check.object("circuitBreaker", breaker);
    if (breaker.failureThreshold !== undefined)
      requireInteger("circuitBreaker.failureThreshold", breaker.failureThreshold, 1);
    if (breaker.openMs !== undefined) requireNumber("circuitBreaker.openMs", breaker.openMs, 1);
    if (breaker.maxOpenMs !== undefined) requireNumber("circuitBreaker.maxOpenMs", breaker.maxOpenMs, 1);
  }
  const concurrency = requireInteger("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY, 1);
  return {
    ...options,
    concurrency,
    quantum: requireInteger("quantum", options.quantum ?? DEFAULT_QUANTUM, 1),
    leaseMs,
    leaseExtendIntervalMs,
    idleDelayMs: requireNumber("idleDelayMs", options.idleDelayMs ?? DEFAULT_IDLE_DELAY_MS, 0, true),
    maintenanceIntervalMs: requireNumber(
      "maintenanceIntervalMs",
      options.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS,
      0,
    ),
    maintenanceBatchSize: requireInteger(
      "maintenanceBatchSize",
      options.maintenanceBatchSize ?? DEFAULT_MAINTENANCE_BATCH_SIZE,
      1,
    ),
    stopTimeoutMs: requireNumber("stopTimeoutMs", options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, 0, true),
    isRetryable: options.isRetryable ?? (() => true),
    isUnavailable: options.isUnavailable ?? isDependencyUnavailable,
    recorder: options.recorder ?? noopRecorder,
    clock: options.clock ?? Date.now,
  };
}
