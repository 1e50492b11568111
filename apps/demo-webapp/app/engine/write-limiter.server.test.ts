import { describe, expect, it } from "vitest";
import { WriteLimiter } from "./write-limiter.server";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("WriteLimiter", () => {
  it("runs at most maxConcurrent writes at once and the rest in arrival order", async () => {
    const limiter = new WriteLimiter(2);
    const started: number[] = [];
    let running = 0;
    let mostRunning = 0;
    const writes = [0, 1, 2, 3, 4].map((index) =>
      limiter.run(async () => {
        started.push(index);
        running++;
        mostRunning = Math.max(mostRunning, running);
        await sleep(5);
        running--;
        return index;
      }),
    );
    expect(await Promise.all(writes)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(mostRunning).toBe(2);
    expect(limiter.maxInFlight).toBe(2);
    expect(limiter.completed).toBe(5);
    expect(limiter.inFlight).toBe(0);
  });

  it("holds a slot for the latency while the write runs, not for the latency and then the write", async () => {
    const limiter = new WriteLimiter(1, 40);
    const events: string[] = [];
    const first = limiter.run(async () => {
      events.push("first started");
      await sleep(30);
      events.push("first written");
    });
    const second = limiter.run(async () => {
      events.push("second started");
    });
    await sleep(35);
    // The first write ran at once and finished within its 40 ms; its slot is still held.
    expect(events).toEqual(["first started", "first written"]);
    await Promise.all([first, second]);
    expect(events).toEqual(["first started", "first written", "second started"]);
  });

  it("gives the slot back when a write fails", async () => {
    const limiter = new WriteLimiter(1, 1);
    await expect(limiter.run(async () => Promise.reject(new Error("unique violation")))).rejects.toThrow(
      "unique violation",
    );
    expect(await limiter.run(async () => "next")).toBe("next");
    expect(limiter.inFlight).toBe(0);
  });

  it("refuses a concurrency that is not a positive integer", () => {
    expect(() => new WriteLimiter(0)).toThrow("maxConcurrent must be a positive integer, got 0");
  });
});
