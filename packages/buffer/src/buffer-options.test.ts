import { describe, expect, test } from "vitest";
import { resolveBufferOptions } from "./buffer-options.js";
import { BufferError } from "./errors.js";
import type { RedisClient } from "./lua-script.js";

const redis = {} as unknown as RedisClient;

describe("buffer options", () => {
  test("applies the documented defaults", () => {
    const { options, keys } = resolveBufferOptions({ redis });
    expect(keys.prefix).toBe("mollifier");
    expect(keys.shardCount).toBe(16);
    expect(options).toMatchObject({
      maxPayloadBytes: 1024 * 1024,
      leaseMs: 30_000,
      retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0.2, maxElapsedMs: undefined },
      failedRetentionMs: 7 * 24 * 3600 * 1000,
      maxTags: 10,
    });
  });

  test("fails early with a message naming the invalid option", () => {
    expect(() => resolveBufferOptions({ redis, leaseMs: 0 })).toThrow(/leaseMs/);
    expect(() => resolveBufferOptions({ redis, shardCount: 0 })).toThrow(/shardCount/);
    expect(() => resolveBufferOptions({ redis, retry: { jitter: 2 } })).toThrow(/retry.jitter/);
    expect(() => resolveBufferOptions({ redis, retry: { baseDelayMs: 10, maxDelayMs: 5 } })).toThrow(
      /retry.maxDelayMs/,
    );
    expect(() => resolveBufferOptions({ redis, maxEnvDepth: -1 })).toThrow(/maxEnvDepth/);
    expect(() => resolveBufferOptions({ redis, prefix: "a{b}" })).toThrow(/prefix/);
  });

  test("every invalid option answers INVALID_OPTIONS in the one message format of all packages", () => {
    const messageOf = (options: Parameters<typeof resolveBufferOptions>[0]): string => {
      try {
        resolveBufferOptions(options);
      } catch (error) {
        expect(BufferError.isInstance(error) && error.code).toBe("INVALID_OPTIONS");
        return (error as Error).message;
      }
      throw new Error("expected a throw");
    };
    expect(messageOf({ redis, leaseMs: 0 })).toBe(
      "MollifierBufferOptions.leaseMs must be an integer >= 1, got 0",
    );
    expect(messageOf({ redis, retry: { baseDelayMs: 10, maxDelayMs: 5 } })).toBe(
      "MollifierBufferOptions.retry.maxDelayMs must be an integer >= 10, got 5",
    );
    expect(messageOf({ redis, retry: { jitter: 2 } })).toBe(
      'MollifierBufferOptions.retry.jitter must be "full" or a number from 0 to 1, got 2',
    );
    expect(messageOf({ redis, clock: 5 as unknown as () => number })).toBe(
      "MollifierBufferOptions.clock must be a function, got 5",
    );
    expect(messageOf({ redis, shardCount: 0 })).toMatch(
      /^MollifierBufferOptions\.shardCount must be .*, got 0$/,
    );
  });
});
