import { describe, expect, test } from "vitest";
import { answeredWithin } from "./answered-within.js";

describe("answeredWithin", () => {
  test("passes an answer that comes in time, value or error", async () => {
    await expect(answeredWithin(Promise.resolve(7), 1_000, () => new Error("late"))).resolves.toBe(7);
    await expect(
      answeredWithin(Promise.reject(new Error("no")), 1_000, () => new Error("late")),
    ).rejects.toThrow("no");
  });

  test("rejects with onLate's error when the answer does not come, and onLate runs once", async () => {
    let late = 0;
    const never = new Promise<number>(() => {});
    await expect(
      answeredWithin(never, 5, () => {
        late += 1;
        return new Error("late");
      }),
    ).rejects.toThrow("late");
    expect(late).toBe(1);
  });
});
