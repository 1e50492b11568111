import { describe, expect, test } from "vitest";
import { retryDelayMs } from "./backoff.js";

const retry = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  jitter: 0 as number | "full",
  maxElapsedMs: undefined,
};

describe("retry backoff", () => {
  test("doubles from the base delay per attempt and stops at the cap", () => {
    const delays = [1, 2, 3, 4, 7, 8, 40].map((attempt) => retryDelayMs(retry, attempt, () => 0.5));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000]);
  });

  test("jitter takes a random share of at most `jitter` off the backoff, so the cap is never exceeded", () => {
    const jittered = { ...retry, jitter: 0.2 };
    expect(retryDelayMs(jittered, 1, () => 0)).toBe(1_000);
    expect(retryDelayMs(jittered, 1, () => 0.999_999)).toBe(800);
    expect(retryDelayMs(jittered, 10, () => 0)).toBe(60_000);
  });

  test("full jitter draws a delay from 0 to the backoff", () => {
    const full = { ...retry, jitter: "full" as const };
    expect(retryDelayMs(full, 3, () => 0.999_999)).toBe(0);
    expect(retryDelayMs(full, 3, () => 0.5)).toBe(2_000);
  });
});
