import { describe, expect, test } from "vitest";
import { WakeSignal } from "./wake-signal.js";

describe("WakeSignal", () => {
  test("wake ends a pending sleep at once", async () => {
    const signal = new WakeSignal();
    const sleeping = signal.sleep(3_600_000);
    signal.wake();
    await expect(sleeping).resolves.toBeUndefined();
  });

  test("a closed signal ends pending sleeps and does not let new ones wait until reopened", async () => {
    const signal = new WakeSignal();
    const before = signal.sleep(3_600_000);
    signal.close();
    await before;
    await signal.sleep(3_600_000);
    signal.open();
    let woke = false;
    const after = signal.sleep(3_600_000).then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    signal.wake();
    await after;
    expect(woke).toBe(true);
  });
});
