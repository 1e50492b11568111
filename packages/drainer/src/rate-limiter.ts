import { answeredWithin, keySlot, type RedisClient, runLuaScript, slotBalancedTags } from "@mollifier/core";
import { DrainerError, drainerOptionChecks } from "./drainer-error.js";
import { drainRateLimitScript } from "./generated/lua-scripts.js";

const acquireChecks = drainerOptionChecks("SharedRateLimiter.acquire");

/** Default key prefix; see {@link SharedRateLimiter} for the keys. */
export const DEFAULT_RATE_LIMIT_PREFIX = "mollifier";
/** Share of a second's tokens the buckets hold together by default: 50 ms worth. */
export const DEFAULT_BURST_SECONDS = 0.05;
/** Default most buckets the cap is spread over. */
export const DEFAULT_RATE_LIMIT_BUCKETS = 16;
/** Most buckets allowed. */
export const MAX_RATE_LIMIT_BUCKETS = 1_024;
/**
 * Fewest tokens a bucket holds when the cap is spread: a bucket holds
 * `burst / buckets`, the most one call can take from it, so the cap is spread
 * over `min(buckets, floor(burst / 10))` buckets and a grant still leases a
 * batch (the default quantum) in one call.
 */
export const MIN_BUCKET_TOKENS = 10;

/**
 * How long one bucket's call is waited for. Redis answers the script in well
 * under a millisecond; a master that is down or failing over leaves it
 * unanswered for seconds. Past this the bucket (and, on a cluster, every bucket
 * on the same master) is skipped and the call goes to the next one.
 */
export const BUCKET_CALL_TIMEOUT_MS = 250;
/** How long a bucket whose call failed or was not answered in time is skipped. */
export const BUCKET_SKIP_MS = 1_000;

/** The error of a bucket call not answered within {@link BUCKET_CALL_TIMEOUT_MS}. */
export class RateLimitBucketTimeoutError extends DrainerError {
  constructor(key: string) {
    super(
      "RATE_LIMIT_UNAVAILABLE",
      `the rate limit bucket ${key} did not answer within ${BUCKET_CALL_TIMEOUT_MS} ms (its master is down or failing over)`,
    );
  }
}

/** Options of {@link SharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  /** The Redis (or Cluster) every drainer process shares; injected, never built here. */
  redis: RedisClient;
  /** Materialisations per second allowed across every process using the same prefix. */
  ratePerSecond: number;
  /**
   * Tokens the buckets hold together: how far a burst may run ahead of the
   * rate. In any span of `T` seconds at most `ratePerSecond × T + burst`
   * tokens are granted, so the default keeps any one second within 5 % of the
   * rate.
   * @default max(1, ceil(ratePerSecond × 0.05))
   */
  burst?: number;
  /**
   * Most buckets the cap is spread over, each on its own cluster slot, placed
   * so that every master of an evenly split cluster holds its share. The cap
   * uses `min(buckets, max(1, floor(burst / 10)))` buckets, so a small cap
   * stays in one bucket. Every process sharing the prefix must pass the same
   * `ratePerSecond`, `burst` and `buckets`.
   * @default 16
   */
  buckets?: number;
  /**
   * Key prefix; use the buffer's prefix so one deployment shares one cap.
   * @default "mollifier"
   */
  prefix?: string;
  /**
   * Source of randomness in [0, 1): picks the bucket this process starts its
   * rotation at, so processes started together do not walk the buckets in step.
   * @default Math.random
   */
  random?: () => number;
}

/** The answer to {@link SharedRateLimiter.acquire}. */
export type RateLimitResult =
  | { outcome: "granted"; count: number }
  | { outcome: "limited"; retryAfterMs: number };

/**
 * A cap on materialisations per second shared by every drainer process: token
 * buckets in Redis, refilled from Redis `TIME`.
 *
 * The cap is spread over `n` buckets (see {@link SharedRateLimiterOptions.buckets}),
 * each refilled at `ratePerSecond / n` and holding at most `burst / n`, so no
 * slot takes every call of the fleet. Each call takes tokens from one bucket,
 * and each process walks the buckets in turn, one call each, from a random
 * start: every bucket is drawn on whichever shards are busy, so an idle shard
 * strands nothing, and the buckets' rates add up to the cap. Granted tokens in
 * any span of `T` seconds are at most `ratePerSecond × T + burst` (the same
 * bound as one bucket). Keys: with one bucket `{<prefix>:drainer}:rate` (as
 * before spreading), with `n > 1` bucket `i` is `{<prefix>:drainer:<i>:<k>}:rate`,
 * the tag placed on the centre slot of range `i` of an even split of the slots
 * (core's `slotBalancedTags`, as the buffer's shards).
 *
 * @example
 * const limiter = new SharedRateLimiter({ redis, ratePerSecond: 2_000 });
 * const result = await limiter.acquire(10); // { outcome: "granted", count: 10 }
 */
export class SharedRateLimiter {
  /** Every bucket's key, in bucket order. */
  readonly keys: readonly string[];
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly redis: RedisClient;
  private readonly bucketRate: number;
  private readonly bucketBurst: number;
  private readonly keyLists: ReadonlyArray<readonly [string]>;
  private readonly slots: readonly number[];
  private next: number;
  // Buckets skipped until this time (ms), after a failed or unanswered call.
  private readonly skipUntil: number[];
  // Buckets whose last call is still unanswered: skipped until it answers.
  private readonly unanswered = new Set<number>();

  constructor(options: SharedRateLimiterOptions) {
    this.redis = options.redis;
    const check = drainerOptionChecks("SharedRateLimiterOptions");
    this.ratePerSecond = check.number("ratePerSecond", options.ratePerSecond, { above: 0 });
    this.burst = check.integer(
      "burst",
      options.burst ?? Math.max(1, Math.ceil(this.ratePerSecond * DEFAULT_BURST_SECONDS)),
      1,
    );
    const most = check.integer(
      "buckets",
      options.buckets ?? DEFAULT_RATE_LIMIT_BUCKETS,
      1,
      MAX_RATE_LIMIT_BUCKETS,
    );
    const prefix = options.prefix ?? DEFAULT_RATE_LIMIT_PREFIX;
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
      check.fail("prefix", "made of [A-Za-z0-9_.-]", prefix);
    }
    const count = Math.max(1, Math.min(most, Math.floor(this.burst / MIN_BUCKET_TOKENS)));
    this.keys =
      count === 1
        ? [`{${prefix}:drainer}:rate`]
        : slotBalancedTags(`${prefix}:drainer`, count).map((tag) => `${tag}:rate`);
    this.keyLists = this.keys.map((key) => [key] as const);
    this.slots = this.keys.map((key) => keySlot(key));
    this.skipUntil = this.keys.map(() => 0);
    this.bucketRate = this.ratePerSecond / count;
    this.bucketBurst = this.burst / count;
    const random = options.random ?? Math.random;
    this.next = Math.min(count - 1, Math.floor(random() * count));
  }

  /** The first bucket's key (the only one unless the cap is spread). */
  get key(): string {
    return this.keys[0] ?? "";
  }

  /**
   * Takes up to `wanted` tokens from the next bucket; `limited` says when to
   * ask again: when the bucket holds the `wanted` tokens (up to its burst), so
   * a drainer at the cap leases batches rather than one entry per token. A bucket that does not answer in time or fails is skipped for a
   * while (on a cluster with every bucket on its master) and the call goes to
   * the next bucket, so a master failing over holds back only its own share of
   * the cap; the call throws only when no bucket can be reached.
   */
  async acquire(wanted: number): Promise<RateLimitResult> {
    acquireChecks.integer("wanted", wanted, 1);
    const count = this.keyLists.length;
    let lastError: unknown;
    for (let tried = 0; tried < count; tried++) {
      const bucket = this.next;
      this.next = (this.next + 1) % count;
      if (this.unanswered.has(bucket) || Date.now() < (this.skipUntil[bucket] ?? 0)) continue;
      let reply: unknown;
      try {
        reply = await this.call(bucket, wanted);
      } catch (error) {
        lastError = error;
        this.skip(bucket);
        continue;
      }
      if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
        throw new DrainerError("RATE_LIMIT_REPLY", `unexpected rate limit reply: ${JSON.stringify(reply)}`);
      }
      const [granted, waitMs] = reply;
      if (granted > 0) return { outcome: "granted", count: granted };
      // waitMs is this bucket's wait, at its 1/n of the rate; the next call goes to
      // the next bucket, which the other buckets' refill makes likely sooner.
      return { outcome: "limited", retryAfterMs: Math.max(1, Math.ceil(waitMs / count)) };
    }
    throw (
      lastError ??
      new DrainerError(
        "RATE_LIMIT_UNAVAILABLE",
        "no rate limit bucket can be reached (every one was skipped)",
      )
    );
  }

  // One bucket's script call, given up on after BUCKET_CALL_TIMEOUT_MS; the
  // bucket stays skipped until the call answers.
  private call(bucket: number, wanted: number): Promise<unknown> {
    const keys = this.keyLists[bucket];
    if (keys === undefined) throw new DrainerError("RATE_LIMIT_REPLY", "the rate limiter has no bucket");
    const answer = runLuaScript(this.redis, drainRateLimitScript, keys, [
      this.bucketRate,
      wanted,
      this.bucketBurst,
    ]);
    const answered = answeredWithin(answer, BUCKET_CALL_TIMEOUT_MS, () => {
      this.unanswered.add(bucket);
      return new RateLimitBucketTimeoutError(keys[0]);
    });
    void answer.then(
      () => this.unanswered.delete(bucket),
      () => this.unanswered.delete(bucket),
    );
    return answered;
  }

  // Skips a bucket for a while; on a cluster every bucket its master serves too,
  // so a dead master costs one timeout rather than one per bucket.
  private skip(bucket: number): void {
    const until = Date.now() + BUCKET_SKIP_MS;
    const master = this.masterOf(bucket);
    this.slots.forEach((_, other) => {
      if (other === bucket || (master !== undefined && this.masterOf(other) === master)) {
        this.skipUntil[other] = until;
      }
    });
  }

  private masterOf(bucket: number): string | undefined {
    const redis = this.redis;
    if (!("slots" in redis)) return undefined;
    const slot = this.slots[bucket];
    return slot === undefined ? undefined : redis.slots[slot]?.[0];
  }
}
