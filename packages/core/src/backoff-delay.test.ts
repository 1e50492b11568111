import { describe, expect, test } from "vitest";
import { backoffDelayMs } from "./backoff-delay.js";

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0 };

describe("backoffDelayMs", () => {
  test("doubles from the initial delay per attempt and stops at the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 60].map((attempt) => backoffDelayMs(attempt, policy, () => 0.5))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  test("jitter takes a random share of at most `jitter` off the delay, never adds to it", () => {
    const equal = { ...policy, jitter: 0.5 };
    expect(backoffDelayMs(2, equal, () => 0)).toBe(400);
    expect(backoffDelayMs(2, equal, () => 0.999_999)).toBe(200);
    const full = { ...policy, jitter: 1 };
    expect(backoffDelayMs(2, full, () => 0.5)).toBe(200);
    expect(backoffDelayMs(2, full, () => 0.999_999)).toBe(0);
    expect(backoffDelayMs(40, full, () => 0)).toBe(1_000);
  });

  test("stays finite for huge attempt numbers and a zero initial delay", () => {
    expect(backoffDelayMs(10_000, policy, () => 0)).toBe(1_000);
    expect(backoffDelayMs(10_000, { ...policy, initialDelayMs: 0 }, () => 0)).toBe(0);
    expect(backoffDelayMs(-3, policy, () => 0)).toBe(100);
  });
});
