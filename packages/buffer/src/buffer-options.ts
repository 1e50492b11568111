import { optionChecks } from "@mollifier/core";
import { BufferConfigurationError } from "./errors.js";
import { BufferKeys, DEFAULT_KEY_PREFIX, DEFAULT_SHARD_COUNT } from "./keys.js";
import type { RedisClient } from "./lua-script.js";

/** Default largest payload, in bytes of its JSON: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Default lease length. */
export const DEFAULT_LEASE_MS = 30_000;
/** Default number of deliveries before `retry` answers `exhausted`. */
export const DEFAULT_RETRY_MAX_ATTEMPTS = 5;
/** Default first retry delay. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 1_000;
/** Default cap on one retry delay. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 60_000;
/** Default jitter: each retry delay is up to 20 % shorter than its backoff. */
export const DEFAULT_RETRY_JITTER = 0.2;
/** Default time a FAILED record is kept: 7 days. */
export const DEFAULT_FAILED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Default wait before a failure the buffer made itself, still unreported, is handed out again. */
export const DEFAULT_FAILURE_REPORT_RETRY_MS = 30_000;
/** Default cap on an entry's tags. */
export const DEFAULT_MAX_TAGS = 10;
/** Default shortest idempotency-claim lifetime; shorter requested TTLs are raised to it. */
export const DEFAULT_MIN_CLAIM_TTL_MS = 1_000;
/** Default longest idempotency-claim lifetime; longer requested TTLs are lowered to it. */
export const DEFAULT_MAX_CLAIM_TTL_MS = 60_000;

/** Default longest time a process routes by a layout record it has not re-read: 1 s (ADR 15). */
export const DEFAULT_LAYOUT_REFRESH_MS = 1_000;

/** How retry delays grow. */
export interface RetryOptions {
  /**
   * Deliveries (first one included) before `retry` answers `exhausted`.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Delay before the first retry; doubles with every attempt.
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * Upper bound of one delay.
   * @default 60000
   */
  maxDelayMs?: number;
  /**
   * The share of each delay that is random, from 0 to 1: the delay is uniform
   * in `[backoff·(1-jitter), backoff]` (the one jitter convention of
   * `@mollifier/core`'s `backoffDelayMs`), so `maxDelayMs` is a hard cap.
   * `"full"` is the same as `1`.
   * @default 0.2
   */
  jitter?: number | "full";
  /**
   * Time budget from `acceptedAt`: a retry that would be due later answers
   * `exhausted`. Unset: no budget.
   * @default undefined
   */
  maxElapsedMs?: number;
}

/** Options of {@link MollifierBuffer}. */
export interface MollifierBufferOptions {
  /** The Redis (ioredis `Redis` or `Cluster`) the buffer lives in; injected, never created here. */
  redis: RedisClient;
  /**
   * Prefix of every key.
   * @default "mollifier"
   */
  prefix?: string;
  /**
   * Number of shards (hash slots) orgs are spread over.
   * @default 16
   */
  shardCount?: number;
  /**
   * Largest accepted payload, in bytes of its JSON text.
   * @default 1048576
   */
  maxPayloadBytes?: number;
  /**
   * Default lease length of `lease` and `extendLease`.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * Retry backoff and budget.
   * @default { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60000, jitter: 0.2 }
   */
  retry?: RetryOptions;
  /**
   * How long a FAILED record is kept for inspection.
   * @default 604800000 (7 days)
   */
  failedRetentionMs?: number;
  /**
   * How long a failure the buffer made itself (a lease reaped out of attempts, an entry invalid at
   * lease) waits for `settleFailureReport` before `claimUnreportedFailures` hands it out again: the
   * consumer that learnt of it may have died before reporting it.
   * @default 30000
   */
  failureReportRetryMs?: number;
  /**
   * Most entries one env may hold (any state); `accept` answers `over_capacity` beyond. Unset: no cap.
   * @default undefined
   */
  maxEnvDepth?: number;
  /**
   * Most entries one org may hold (any state); `accept` answers `over_capacity` beyond. Unset: no cap.
   * @default undefined
   */
  maxOrgDepth?: number;
  /**
   * Most tags one entry may carry.
   * @default 10
   */
  maxTags?: number;
  /**
   * Shortest lifetime of an idempotency claim; `claim` and `publishClaim` raise shorter TTLs to it.
   * @default 1000
   */
  minClaimTtlMs?: number;
  /**
   * Longest lifetime of an idempotency claim; `claim` and `publishClaim` lower longer TTLs to it,
   * so a crashed owner never holds a key for long.
   * @default 60000
   */
  maxClaimTtlMs?: number;
  /**
   * How often, at most, an operation re-reads the layout record in the background (one `HMGET`
   * on its own slot), so reads of shards moved by a live reshard follow within this time.
   * Writes never wait for it: a moved shard's scripts refuse the call, and the buffer re-reads
   * the record and retries at once.
   * @default 1000
   */
  layoutRefreshMs?: number;
  /**
   * Uniform random numbers in `[0, 1)` for retry jitter (lease tokens come from `node:crypto`).
   * @default Math.random
   */
  random?: () => number;
  /**
   * Epoch-ms clock for `createdAt` defaults. Lease deadlines and `acceptedAt` use Redis `TIME`.
   * @default Date.now
   */
  clock?: () => number;
}

/** Options with every default applied. */
export interface ResolvedBufferOptions {
  readonly maxPayloadBytes: number;
  readonly leaseMs: number;
  readonly retry: Required<Omit<RetryOptions, "maxElapsedMs">> & {
    readonly maxElapsedMs: number | undefined;
  };
  readonly failedRetentionMs: number;
  readonly failureReportRetryMs: number;
  readonly maxEnvDepth: number | undefined;
  readonly maxOrgDepth: number | undefined;
  readonly maxTags: number;
  readonly minClaimTtlMs: number;
  readonly maxClaimTtlMs: number;
  readonly layoutRefreshMs: number;
  readonly random: () => number;
  readonly clock: () => number;
}

/** Everything an operation module needs. */
export interface BufferContext {
  readonly redis: RedisClient;
  readonly keys: BufferKeys;
  readonly options: ResolvedBufferOptions;
}

const check = optionChecks(
  "MollifierBufferOptions",
  (message) => new BufferConfigurationError("INVALID_OPTIONS", message),
);

function integer(path: string, value: number | undefined, fallback: number, min: number): number {
  return check.integer(path, value ?? fallback, min);
}

function optionalInteger(path: string, value: number | undefined, min: number): number | undefined {
  return value === undefined ? undefined : check.integer(path, value, min);
}

/** Applies defaults and checks every option; throws {@link BufferConfigurationError} naming the option. */
export function resolveBufferOptions(options: MollifierBufferOptions): BufferContext {
  if (typeof options !== "object" || options === null || typeof options.redis !== "object") {
    check.fail("redis", "an ioredis Redis or Cluster client", options?.redis);
  }
  let keys: BufferKeys;
  try {
    keys = new BufferKeys({
      prefix: options.prefix ?? DEFAULT_KEY_PREFIX,
      shardCount: options.shardCount ?? DEFAULT_SHARD_COUNT,
    });
  } catch (error) {
    // BufferKeys names the option (prefix or shardCount) in its own message.
    throw new BufferConfigurationError(
      "INVALID_OPTIONS",
      `MollifierBufferOptions.${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const retry = options.retry ?? {};
  const jitter = retry.jitter ?? DEFAULT_RETRY_JITTER;
  if (jitter !== "full" && !(typeof jitter === "number" && jitter >= 0 && jitter <= 1)) {
    check.fail("retry.jitter", '"full" or a number from 0 to 1', jitter);
  }
  const baseDelayMs = integer("retry.baseDelayMs", retry.baseDelayMs, DEFAULT_RETRY_BASE_DELAY_MS, 0);
  const maxDelayMs = integer("retry.maxDelayMs", retry.maxDelayMs, DEFAULT_RETRY_MAX_DELAY_MS, baseDelayMs);
  const minClaimTtlMs = integer("minClaimTtlMs", options.minClaimTtlMs, DEFAULT_MIN_CLAIM_TTL_MS, 1);
  const maxClaimTtlMs = integer(
    "maxClaimTtlMs",
    options.maxClaimTtlMs,
    DEFAULT_MAX_CLAIM_TTL_MS,
    minClaimTtlMs,
  );
  for (const name of ["random", "clock"] as const) {
    if (options[name] !== undefined) check.function(name, options[name]);
  }
  return {
    redis: options.redis,
    keys,
    options: {
      maxPayloadBytes: integer("maxPayloadBytes", options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 1),
      leaseMs: integer("leaseMs", options.leaseMs, DEFAULT_LEASE_MS, 1),
      retry: {
        maxAttempts: integer("retry.maxAttempts", retry.maxAttempts, DEFAULT_RETRY_MAX_ATTEMPTS, 1),
        baseDelayMs,
        maxDelayMs,
        jitter,
        maxElapsedMs: optionalInteger("retry.maxElapsedMs", retry.maxElapsedMs, 0),
      },
      failedRetentionMs: integer(
        "failedRetentionMs",
        options.failedRetentionMs,
        DEFAULT_FAILED_RETENTION_MS,
        1,
      ),
      failureReportRetryMs: integer(
        "failureReportRetryMs",
        options.failureReportRetryMs,
        DEFAULT_FAILURE_REPORT_RETRY_MS,
        1,
      ),
      maxEnvDepth: optionalInteger("maxEnvDepth", options.maxEnvDepth, 1),
      maxOrgDepth: optionalInteger("maxOrgDepth", options.maxOrgDepth, 1),
      maxTags: integer("maxTags", options.maxTags, DEFAULT_MAX_TAGS, 1),
      minClaimTtlMs,
      maxClaimTtlMs,
      layoutRefreshMs: integer("layoutRefreshMs", options.layoutRefreshMs, DEFAULT_LAYOUT_REFRESH_MS, 1),
      random: options.random ?? Math.random,
      clock: options.clock ?? Date.now,
    },
  };
}
