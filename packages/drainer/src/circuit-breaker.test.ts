import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return () => done;
}

describe("CircuitBreaker", () => {
  test("stays closed below the failure threshold, and a success resets the count", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    breaker.recordUnavailable();
    breaker.recordUnavailable();
    breaker.recordSuccess();
    breaker.recordUnavailable();
    breaker.recordUnavailable();
    expect(breaker.state).toBe("closed");
    breaker.recordUnavailable();
    expect(breaker.state).toBe("open");
  });

  test("an open circuit holds callers until it is half-open, then lets exactly one probe through", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1_000 });
    breaker.recordUnavailable();
    const first = settled(breaker.whenCallable());
    const second = settled(breaker.whenCallable());
    await vi.advanceTimersByTimeAsync(999);
    expect([first(), second()]).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe("half_open");
    expect([first(), second()]).toEqual([true, false]);
    // The probe succeeds: the circuit closes and the waiter goes too.
    breaker.recordSuccess();
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.state).toBe("closed");
    expect(second()).toBe(true);
  });

  test("a failed probe opens the circuit for twice as long, up to maxOpenMs", async () => {
    const states: Array<[CircuitState, number]> = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      openMs: 100,
      maxOpenMs: 300,
      onStateChange: (state, openMs) => states.push([state, openMs]),
    });
    breaker.recordUnavailable();
    for (let probe = 0; probe < 3; probe++) {
      await vi.advanceTimersByTimeAsync(1_000);
      await breaker.whenCallable();
      breaker.recordUnavailable();
    }
    expect(states.filter(([state]) => state === "open").map(([, openMs]) => openMs)).toEqual([
      100, 200, 300, 300,
    ]);
  });

  test("a waiter whose signal aborts is rejected with the reason and forgotten", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 10 });
    breaker.recordUnavailable();
    const controller = new AbortController();
    const waiting = breaker.whenCallable(controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
  });
});
