import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { SharedRateLimiter } from "./rate-limiter.js";

describe.each(redisTopologies)("SharedRateLimiter on $name", ({ test }) => {
  test("grants at most the burst at once and then asks the caller to wait", async ({ redis }) => {
    const limiter = new SharedRateLimiter({ redis, ratePerSecond: 10, burst: 5 });
    expect(await limiter.acquire(3)).toEqual({ outcome: "granted", count: 3 });
    expect(await limiter.acquire(10)).toEqual({ outcome: "granted", count: 2 });
    const limited = await limiter.acquire(1);
    expect(limited.outcome).toBe("limited");
    if (limited.outcome === "limited") expect(limited.retryAfterMs).toBeLessThanOrEqual(100);
  });

  test("two processes on the same key share one bucket", async ({ redis, createRedisClient }) => {
    const one = new SharedRateLimiter({ redis, ratePerSecond: 1, burst: 4 });
    const two = new SharedRateLimiter({ redis: createRedisClient(), ratePerSecond: 1, burst: 4 });
    expect(await one.acquire(3)).toEqual({ outcome: "granted", count: 3 });
    expect(await two.acquire(3)).toEqual({ outcome: "granted", count: 1 });
    expect((await one.acquire(1)).outcome).toBe("limited");
    // Another prefix is another budget.
    const other = new SharedRateLimiter({ redis, ratePerSecond: 1, burst: 4, prefix: "other" });
    expect(await other.acquire(4)).toEqual({ outcome: "granted", count: 4 });
  });

  test("refills at the configured rate", async ({ redis }) => {
    const limiter = new SharedRateLimiter({ redis, ratePerSecond: 200, burst: 1 });
    let granted = 0;
    await expect
      .poll(
        async () => {
          const result = await limiter.acquire(1);
          if (result.outcome === "granted") granted += result.count;
          return granted;
        },
        { timeout: 5_000, interval: 5 },
      )
      .toBeGreaterThanOrEqual(5);
  });

  test("invalid options fail early naming the option", async ({ redis }) => {
    expect(() => new SharedRateLimiter({ redis, ratePerSecond: 0 })).toThrow(
      /SharedRateLimiterOptions\.ratePerSecond/,
    );
    expect(() => new SharedRateLimiter({ redis, ratePerSecond: 5, burst: 0 })).toThrow(
      /SharedRateLimiterOptions\.burst/,
    );
    expect(() => new SharedRateLimiter({ redis, ratePerSecond: 5, prefix: "a:b" })).toThrow(
      /SharedRateLimiterOptions\.prefix/,
    );
  });
});
