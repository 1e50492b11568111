import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";

function input(runId: string, envId = "env", overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, orgId: "org", envId, taskId: "task", payload: { n: runId }, options: {}, ...overrides };
}

describe.each(redisTopologies)("acceptBatch on $name", ({ test }) => {
  test("answers one result per input in input order and keeps each env's FIFO order", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const results = await buffer.acceptBatch([
      input("a1", "a"),
      input("b1", "b"),
      input("a2", "a"),
      input("a3", "a", { options: { idempotencyKey: "k" } }),
      input("a4", "a"),
      input("b2", "b"),
    ]);
    expect(results).toEqual([
      { outcome: "accepted", runId: "a1", position: 0 },
      { outcome: "accepted", runId: "b1", position: 0 },
      { outcome: "accepted", runId: "a2", position: 1 },
      { outcome: "accepted", runId: "a3", position: 2 },
      { outcome: "accepted", runId: "a4", position: 3 },
      { outcome: "accepted", runId: "b2", position: 1 },
    ]);
    expect(await redis.lrange(buffer.keys.env("org", "a").queue, 0, -1)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(await buffer.depth({ orgId: "org" })).toBe(6);
  });

  test("reports duplicates and capacity per item, including duplicates inside the same batch", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, maxEnvDepth: 3 });
    await buffer.accept(input("x", "env", { options: { idempotencyKey: "k" } }));
    const results = await buffer.acceptBatch([
      input("x"),
      input("y"),
      input("y"),
      input("z", "env", { options: { idempotencyKey: "k" } }),
      input("w"),
      input("v"),
    ]);
    expect(results).toEqual([
      { outcome: "duplicate_run", runId: "x" },
      { outcome: "accepted", runId: "y", position: 1 },
      { outcome: "duplicate_run", runId: "y" },
      { outcome: "duplicate_idempotency", runId: "x" },
      { outcome: "accepted", runId: "w", position: 2 },
      { outcome: "over_capacity", runId: "v", scope: "env", depth: 3, limit: 3 },
    ]);
  });

  test("an empty batch answers an empty list", async ({ redis }) => {
    expect(await new MollifierBuffer({ redis }).acceptBatch([])).toEqual([]);
  });
});
