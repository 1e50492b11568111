import { type RedisClient, runLuaScript } from "@mollifier/core";
import { DrainerError, drainerOptionChecks } from "./drainer-error.js";
import { drainRateLimitScript } from "./generated/lua-scripts.js";

const acquireChecks = drainerOptionChecks("SharedRateLimiter.acquire");

/** Default key prefix; the limiter's key is `{<prefix>:drainer}:rate`. */
export const DEFAULT_RATE_LIMIT_PREFIX = "mollifier";
/** Share of a second's tokens the bucket holds by default: 100 ms worth. */
export const DEFAULT_BURST_SECONDS = 0.1;

/** Options of {@link SharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  /** The Redis (or Cluster) every drainer process shares; injected, never built here. */
  redis: RedisClient;
  /** Materialisations per second allowed across every process using the same key. */
  ratePerSecond: number;
  /**
   * Tokens the bucket can hold: how far a burst may run ahead of the rate.
   * @default max(1, ceil(ratePerSecond × 0.1))
   */
  burst?: number;
  /**
   * Key prefix; use the buffer's prefix so one deployment shares one cap.
   * @default "mollifier"
   */
  prefix?: string;
}

/** The answer to {@link SharedRateLimiter.acquire}. */
export type RateLimitResult =
  | { outcome: "granted"; count: number }
  | { outcome: "limited"; retryAfterMs: number };

/**
 * A token bucket in Redis, refilled from Redis `TIME`, so every drainer
 * process drawing on the same key shares one cap on materialisations per
 * second. Processes should configure the same rate; each call refills at the
 * rate it passes.
 */
export class SharedRateLimiter {
  readonly key: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly redis: RedisClient;

  constructor(options: SharedRateLimiterOptions) {
    this.redis = options.redis;
    const check = drainerOptionChecks("SharedRateLimiterOptions");
    this.ratePerSecond = check.number("ratePerSecond", options.ratePerSecond, { above: 0 });
    this.burst = check.integer(
      "burst",
      options.burst ?? Math.max(1, Math.ceil(this.ratePerSecond * DEFAULT_BURST_SECONDS)),
      1,
    );
    const prefix = options.prefix ?? DEFAULT_RATE_LIMIT_PREFIX;
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
      check.fail("prefix", "made of [A-Za-z0-9_.-]", prefix);
    }
    this.key = `{${prefix}:drainer}:rate`;
  }

  /** Takes up to `wanted` tokens; `limited` says how long until one is available. */
  async acquire(wanted: number): Promise<RateLimitResult> {
    acquireChecks.integer("wanted", wanted, 1);
    const reply = await runLuaScript(
      this.redis,
      drainRateLimitScript,
      [this.key],
      [this.ratePerSecond, wanted, this.burst],
    );
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new DrainerError("RATE_LIMIT_REPLY", `unexpected rate limit reply: ${JSON.stringify(reply)}`);
    }
    const [granted, waitMs] = reply;
    return granted > 0
      ? { outcome: "granted", count: granted }
      : { outcome: "limited", retryAfterMs: Math.max(1, waitMs) };
  }
}
