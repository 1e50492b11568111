import { describe, expect, test } from "vitest";
import { LoopBackoff } from "./loop-backoff.js";

describe("LoopBackoff", () => {
  test("doubles the delay per consecutive failure up to the cap, and a success resets it", () => {
    const backoff = new LoopBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0 });
    expect([
      backoff.failed(),
      backoff.failed(),
      backoff.failed(),
      backoff.failed(),
      backoff.failed(),
    ]).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.failures).toBe(5);
    backoff.succeeded();
    expect(backoff.failed()).toBe(100);
  });

  test("jitters each delay within its upper half", () => {
    const backoff = new LoopBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.999_999 });
    expect(backoff.failed()).toBe(50);
    expect(backoff.failed()).toBe(100);
  });

  test("invalid options fail early naming the option", () => {
    expect(() => new LoopBackoff({ baseMs: -1 })).toThrow(/backoff\.baseMs/);
    expect(() => new LoopBackoff({ baseMs: 500, maxMs: 100 })).toThrow(/backoff\.maxMs/);
  });
});
