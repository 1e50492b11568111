import { describe, expect, test } from "vitest";
import { backoffDelay, resolvePolling } from "./backoff.js";
import { ReadFallbackError } from "./read-fallback-error.js";

const polling = { initialDelayMs: 10, maxDelayMs: 100, jitter: 0.5 };

describe("backoffDelay", () => {
  test("doubles from the initial delay and stops at the maximum", () => {
    const noJitter = { ...polling, jitter: 0 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, noJitter, () => 0.9))).toEqual([
      10, 20, 40, 80, 100, 100,
    ]);
  });

  test("takes away at most the jitter share of the delay", () => {
    expect(backoffDelay(2, polling, () => 0)).toBe(40);
    expect(backoffDelay(2, polling, () => 0.999_999)).toBe(20);
  });

  test("never answers less than 1 ms, even with full jitter", () => {
    expect(backoffDelay(0, { ...polling, jitter: 1 }, () => 0.999_999)).toBe(1);
  });

  test("stays finite for very large attempt numbers", () => {
    expect(backoffDelay(10_000, polling, () => 0)).toBe(100);
  });
});

describe("resolvePolling", () => {
  const defaults = { ...polling, maxWaitMs: 1_000 };

  test("fills fields left out or undefined from the defaults", () => {
    expect(resolvePolling("p", { maxWaitMs: 5, jitter: undefined }, defaults)).toEqual({
      ...defaults,
      maxWaitMs: 5,
    });
  });

  test.each([
    [{ initialDelayMs: 0 }, "p.initialDelayMs"],
    [{ maxWaitMs: -1 }, "p.maxWaitMs"],
    [{ jitter: 1.5 }, "p.jitter"],
    [{ maxDelayMs: 5 }, "p.maxDelayMs"],
  ])("rejects %o with a message naming the option", (partial, name) => {
    expect(() => resolvePolling("p", partial, defaults)).toThrow(name);
    try {
      resolvePolling("p", partial, defaults);
    } catch (error) {
      expect(ReadFallbackError.isInstance(error) && error.code).toBe("INVALID_OPTIONS");
    }
  });
});
