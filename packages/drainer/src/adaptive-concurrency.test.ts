import { describe, expect, test } from "vitest";
import { AdaptiveConcurrency } from "./adaptive-concurrency.js";

function controller(overrides: Partial<ConstructorParameters<typeof AdaptiveConcurrency>[0]> = {}) {
  const time = { now: 0 };
  const adaptive = new AdaptiveConcurrency({
    maxConcurrency: 20,
    targetLatencyMs: 100,
    maxErrorRate: 0.1,
    windowMs: 1_000,
    minSamples: 5,
    clock: () => time.now,
    ...overrides,
  });
  const window = (durationMs: number, failed = 0, samples = 10): number | undefined => {
    time.now += 1_000;
    let change: number | undefined;
    for (let i = 0; i < samples; i += 1) {
      change = adaptive.record({ durationMs, failed: i < failed }) ?? change;
    }
    return change;
  };
  return { adaptive, window, time };
}

describe("AdaptiveConcurrency", () => {
  test("cuts concurrency multiplicatively when latency rises above the target", () => {
    const { adaptive, window } = controller();
    expect(adaptive.limit).toBe(20);
    expect(window(250)).toBe(14);
    expect(window(250)).toBe(9);
    expect(window(250)).toBe(6);
  });

  test("cuts concurrency when the error rate rises above the target, even when fast", () => {
    const { adaptive, window } = controller();
    window(10, 5);
    expect(adaptive.limit).toBe(14);
  });

  test("recovers additively while healthy, up to the configured concurrency", () => {
    const { adaptive, window } = controller({ initialConcurrency: 17 });
    expect(window(20)).toBe(18);
    window(20);
    window(20);
    window(20);
    expect(adaptive.limit).toBe(20);
  });

  test("never goes below the floor", () => {
    const { adaptive, window } = controller({ minConcurrency: 3 });
    for (let i = 0; i < 20; i += 1) window(10_000);
    expect(adaptive.limit).toBe(3);
  });

  test("waits for a full window with enough samples before deciding", () => {
    const { adaptive, time } = controller();
    for (let i = 0; i < 50; i += 1) adaptive.record({ durationMs: 10_000, failed: true });
    expect(adaptive.limit).toBe(20);
    time.now += 1_000;
    adaptive.record({ durationMs: 10_000, failed: true });
    expect(adaptive.limit).toBe(14);
  });

  test("invalid options fail early naming the option", () => {
    expect(() => new AdaptiveConcurrency({ maxConcurrency: 0 })).toThrow(/adaptive\.maxConcurrency/);
    expect(() => new AdaptiveConcurrency({ maxConcurrency: 5, minConcurrency: 6 })).toThrow(
      /adaptive\.minConcurrency/,
    );
    expect(() => new AdaptiveConcurrency({ maxConcurrency: 5, decreaseFactor: 1 })).toThrow(
      /adaptive\.decreaseFactor/,
    );
  });
});
