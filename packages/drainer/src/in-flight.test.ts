import { describe, expect, test } from "vitest";
import { InFlightCount } from "./in-flight.js";

describe("InFlightCount", () => {
  test("drained resolves at once when nothing is in flight, else when the last entry is done", async () => {
    const count = new InFlightCount();
    await count.drained();
    count.add();
    count.add();
    let drained = false;
    const waiting = count.drained().then(() => {
      drained = true;
    });
    count.done();
    await Promise.resolve();
    expect(drained).toBe(false);
    expect(count.size).toBe(1);
    count.done();
    await waiting;
    expect(drained).toBe(true);
    expect(count.size).toBe(0);
  });
});
