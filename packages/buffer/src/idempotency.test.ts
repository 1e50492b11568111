import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { encodeSegment } from "./keys.js";
import type { AcceptInput } from "./snapshot.js";

const key = { orgId: "org_1", envId: "env_1", taskId: "send-email", idempotencyKey: "order-42" };

function trigger(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return {
    runId,
    orgId: key.orgId,
    envId: key.envId,
    taskId: key.taskId,
    payload: { to: "a@example.com" },
    options: { idempotencyKey: key.idempotencyKey },
    ...overrides,
  };
}

describe.each(redisTopologies)("idempotency index on $name", ({ test }) => {
  test("lookup answers not_found without an index and found with the buffered run that holds the key", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "not_found" });
    await buffer.accept(trigger("run_1"));
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "found", runId: "run_1" });
    expect(await buffer.lookupIdempotency({ ...key, taskId: "other-task" })).toEqual({
      outcome: "not_found",
    });
    expect(await buffer.lookupIdempotency({ ...key, envId: "env_2" })).toEqual({
      outcome: "not_found",
    });
  });

  test("lookup returns a run id that needs encoding exactly as it was accepted", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const runId = "run:1/{ü}%41";
    expect((await buffer.accept(trigger(runId))).outcome).toBe("accepted");
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "found", runId });
  });

  test("lookup heals an index whose entry is gone: it deletes the index and answers not_found", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const indexKey = buffer.keys.idempotency(key.orgId, key.envId, key.taskId, key.idempotencyKey);
    await buffer.accept(trigger("run_1"));
    await redis.hdel(buffer.keys.env(key.orgId, key.envId).entries, encodeSegment("run_1"));

    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "not_found" });
    expect(await redis.exists(indexKey)).toBe(0);
    // The key is free again: a new trigger with it is accepted, not reported as a duplicate.
    expect((await buffer.accept(trigger("run_2"))).outcome).toBe("accepted");
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "found", runId: "run_2" });
  });

  test("reset releases the key of a queued run and marks the run idempotencyReset", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger("run_1"));
    expect(await buffer.resetIdempotency(key)).toEqual({ outcome: "reset", runId: "run_1" });
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "not_found" });
    const entry = await buffer.getEntry({ orgId: key.orgId, envId: key.envId, runId: "run_1" });
    expect(entry?.mutations.idempotencyReset).toBe(true);
    expect(entry?.state).toBe("queued");
    expect((await buffer.accept(trigger("run_2"))).outcome).toBe("accepted");
  });

  test("reset answers busy while the run is leased and changes nothing", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger("run_1"));
    const { entries } = await buffer.lease({ orgId: key.orgId, envId: key.envId, count: 1 });
    expect(entries.map((entry) => entry.runId)).toEqual(["run_1"]);

    expect(await buffer.resetIdempotency(key)).toEqual({ outcome: "busy" });
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "found", runId: "run_1" });
    const entry = await buffer.getEntry({ orgId: key.orgId, envId: key.envId, runId: "run_1" });
    expect(entry?.mutations.idempotencyReset).toBe(false);
  });

  test("reset answers not_found without an index, and deletes an index whose entry is gone", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    expect(await buffer.resetIdempotency(key)).toEqual({ outcome: "not_found" });
    const indexKey = buffer.keys.idempotency(key.orgId, key.envId, key.taskId, key.idempotencyKey);
    await redis.set(indexKey, encodeSegment("run_gone"));
    expect(await buffer.resetIdempotency(key)).toEqual({ outcome: "not_found" });
    expect(await redis.exists(indexKey)).toBe(0);
  });

  test("hostile task names and keys never reach another key's or another tenant's index", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const hostile = { ...key, taskId: "task:a", idempotencyKey: "b}:{mollifier:0}:idem:org_2" };
    await buffer.accept(
      trigger("run_1", { taskId: hostile.taskId, options: { idempotencyKey: hostile.idempotencyKey } }),
    );
    const lookalikes = [
      { ...key, taskId: "task", idempotencyKey: "a:b}:{mollifier:0}:idem:org_2" },
      { ...key, taskId: "task:a:b}", idempotencyKey: "{mollifier:0}:idem:org_2" },
      { ...hostile, orgId: "org_2" },
      { ...hostile, envId: "env_2" },
    ];
    for (const other of lookalikes) {
      expect(await buffer.lookupIdempotency(other)).toEqual({ outcome: "not_found" });
      expect(await buffer.resetIdempotency(other)).toEqual({ outcome: "not_found" });
    }
    expect(await buffer.lookupIdempotency(hostile)).toEqual({ outcome: "found", runId: "run_1" });
  });

  test("an empty or oversized segment throws before anything is read or written", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await expect(buffer.lookupIdempotency({ ...key, idempotencyKey: "" })).rejects.toThrow(/idempotencyKey/);
    await expect(buffer.resetIdempotency({ ...key, taskId: "x".repeat(600) })).rejects.toThrow(/taskId/);
  });
});
