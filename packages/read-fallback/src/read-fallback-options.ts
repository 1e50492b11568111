import { randomUUID } from "node:crypto";
import { type MollifierRecorder, noopRecorder } from "@mollifier/telemetry";
import { type PollingOptions, resolvePolling } from "./backoff.js";
import type { ReadFallbackBuffer } from "./read-fallback-buffer.js";
import { readFallbackOptionChecks as check } from "./read-fallback-error.js";
import type { RunStore } from "./run-store.js";

/** Shortest claim TTL, in ms. */
export const DEFAULT_MIN_CLAIM_TTL_MS = 1_000;
/** Longest claim TTL, in ms; also the TTL of a key without expiry. */
export const DEFAULT_MAX_CLAIM_TTL_MS = 60_000;
/** How a trigger waits for another request's claim to resolve. */
export const DEFAULT_CLAIM_POLLING: PollingOptions = Object.freeze({
  initialDelayMs: 20,
  maxDelayMs: 500,
  jitter: 0.5,
  maxWaitMs: 10_000,
});
/** How a mutation waits for a leased entry to reach the database. */
export const DEFAULT_LEASE_POLLING: PollingOptions = Object.freeze({
  initialDelayMs: 50,
  maxDelayMs: 1_000,
  jitter: 0.5,
  maxWaitMs: 10_000,
});
/** Compare-and-set attempts of one metadata update. */
export const DEFAULT_MAX_METADATA_ATTEMPTS = 10;
/** Backoff between metadata compare-and-set attempts (full jitter spreads contenders). */
export const DEFAULT_METADATA_BACKOFF: Pick<PollingOptions, "initialDelayMs" | "maxDelayMs" | "jitter"> =
  Object.freeze({ initialDelayMs: 5, maxDelayMs: 200, jitter: 1 });

/** Options of {@link createReadFallback}. */
export interface ReadFallbackOptions {
  /** The buffer (a `MollifierBuffer` satisfies the port). */
  buffer: ReadFallbackBuffer;
  /** The database's run table. */
  runStore: RunStore;
  /**
   * Receives claim outcomes and fallbacks to safe defaults.
   * @default noopRecorder
   */
  recorder?: MollifierRecorder;
  /**
   * Current time, epoch ms.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Waits `ms` milliseconds.
   * @default a `setTimeout` promise
   */
  sleep?: (ms: number) => Promise<void>;
  /**
   * A number in `[0, 1)`, for jitter.
   * @default Math.random
   */
  random?: () => number;
  /**
   * A fresh claim owner token per `claimOrAwait` call.
   * @default crypto.randomUUID
   */
  generateToken?: () => string;
  /**
   * Runs per second the drainer writes for an env, for the ETA of a buffered
   * run; `undefined` (or not positive) leaves the ETA out.
   * @default () => undefined
   */
  estimateDrainRate?: (scope: { readonly orgId: string; readonly envId: string }) => number | undefined;
  /**
   * Shortest claim TTL, in ms: how long an owner has at least to publish.
   * @default 1_000
   */
  minClaimTtlMs?: number;
  /**
   * Longest claim TTL, in ms: how long a dead owner can block a key at most.
   * @default 60_000
   */
  maxClaimTtlMs?: number;
  /**
   * How `claimOrAwait` polls while another request owns the claim.
   * @default { initialDelayMs: 20, maxDelayMs: 500, jitter: 0.5, maxWaitMs: 10_000 }
   */
  claimPolling?: Partial<PollingOptions>;
  /**
   * How a mutation polls Redis while the run's entry is leased.
   * @default { initialDelayMs: 50, maxDelayMs: 1_000, jitter: 0.5, maxWaitMs: 10_000 }
   */
  leasePolling?: Partial<PollingOptions>;
  /**
   * Compare-and-set attempts of one metadata update before it answers
   * `version_conflict`. With `n` concurrent updates of one run, `n` attempts
   * are always enough: each failed attempt means another update succeeded.
   * @default 10
   */
  maxMetadataAttempts?: number;
  /**
   * Backoff between metadata attempts.
   * @default { initialDelayMs: 5, maxDelayMs: 200, jitter: 1 }
   */
  metadataBackoff?: Partial<Pick<PollingOptions, "initialDelayMs" | "maxDelayMs" | "jitter">>;
}

/** Options with every default filled in, shared by the operations. */
export interface ReadFallbackContext {
  readonly buffer: ReadFallbackBuffer;
  readonly runStore: RunStore;
  readonly recorder: MollifierRecorder;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly generateToken: () => string;
  readonly estimateDrainRate: (scope: {
    readonly orgId: string;
    readonly envId: string;
  }) => number | undefined;
  readonly minClaimTtlMs: number;
  readonly maxClaimTtlMs: number;
  readonly claimPolling: PollingOptions;
  readonly leasePolling: PollingOptions;
  readonly maxMetadataAttempts: number;
  readonly metadataBackoff: PollingOptions;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Validates `options` and fills in defaults; throws `INVALID_OPTIONS` naming the option. */
export function resolveReadFallbackOptions(options: ReadFallbackOptions): ReadFallbackContext {
  check.object("buffer", options?.buffer);
  check.object("runStore", options.runStore);
  const minClaimTtlMs = check.integer("minClaimTtlMs", options.minClaimTtlMs ?? DEFAULT_MIN_CLAIM_TTL_MS, 1);
  const maxClaimTtlMs = check.integer(
    "maxClaimTtlMs",
    options.maxClaimTtlMs ?? Math.max(DEFAULT_MAX_CLAIM_TTL_MS, minClaimTtlMs),
    minClaimTtlMs,
  );
  return Object.freeze({
    buffer: options.buffer,
    runStore: options.runStore,
    recorder: options.recorder ?? noopRecorder,
    clock: options.clock ?? Date.now,
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
    generateToken: options.generateToken ?? randomUUID,
    estimateDrainRate: options.estimateDrainRate ?? (() => undefined),
    minClaimTtlMs,
    maxClaimTtlMs,
    claimPolling: resolvePolling("claimPolling", options.claimPolling, DEFAULT_CLAIM_POLLING),
    leasePolling: resolvePolling("leasePolling", options.leasePolling, DEFAULT_LEASE_POLLING),
    maxMetadataAttempts: check.integer(
      "maxMetadataAttempts",
      options.maxMetadataAttempts ?? DEFAULT_MAX_METADATA_ATTEMPTS,
      1,
    ),
    // maxWaitMs is unused for metadata: its attempts are bounded by count.
    metadataBackoff: resolvePolling("metadataBackoff", options.metadataBackoff, {
      ...DEFAULT_METADATA_BACKOFF,
      maxWaitMs: 0,
    }),
  });
}
