import { redisTest } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { runFromEntry } from "./run-from-entry.js";

const address = { orgId: "org", envId: "env", runId: "run_1" };

describe("runFromEntry", () => {
  redisTest(
    "a leased entry maps to its run row with every mutation made while buffered",
    async ({ redis }) => {
      const buffer = new MollifierBuffer({ redis });
      await buffer.accept({
        ...address,
        taskId: "task",
        payload: { n: 1 },
        createdAt: 1_000,
        options: { tags: ["a", "b"], metadata: { step: 1 }, idempotencyKey: "key", parentRunId: "parent" },
      });
      await buffer.addTags({ ...address, tags: ["b", "c"] });
      await buffer.setMetadata({ ...address, metadata: '{"step":2}', expectedVersion: 0 });
      await buffer.setDelay({ ...address, delayUntil: 5_000 });
      const { entries } = await buffer.lease({ orgId: "org", envId: "env", count: 1 });
      const [entry] = entries;
      if (entry === undefined) throw new Error("nothing leased");
      expect(runFromEntry(entry, { now: 2_000 })).toEqual({
        id: "run_1",
        orgId: "org",
        envId: "env",
        taskId: "task",
        status: "DELAYED",
        payload: { n: 1 },
        tags: ["a", "b", "c"],
        metadata: '{"step":2}',
        metadataVersion: 1,
        idempotencyKey: "key",
        idempotencyKeyExpiresAt: undefined,
        delayUntil: 5_000,
        canceledAt: undefined,
        cancelReason: undefined,
        parentRunId: "parent",
        createdAt: 1_000,
      });
      expect(runFromEntry(entry, { now: 5_000 }).status).toBe("QUEUED");
    },
  );

  redisTest("a canceled entry with a reset key maps to CANCELED without the key", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept({ ...address, taskId: "task", payload: null, options: { idempotencyKey: "key" } });
    await buffer.cancel({ ...address, reason: "user" });
    await buffer.resetIdempotency({ orgId: "org", envId: "env", taskId: "task", idempotencyKey: "key" });
    const entry = await buffer.getEntry(address);
    if (entry === undefined) throw new Error("entry missing");
    const run = runFromEntry(entry, { now: Date.now() });
    expect(run).toMatchObject({ status: "CANCELED", cancelReason: "user", idempotencyKey: undefined });
    expect(run.canceledAt).toBeTypeOf("number");
  });

  redisTest(
    "an entry without readable mutations maps from its snapshot, metadata as JSON text",
    async ({ redis }) => {
      const buffer = new MollifierBuffer({ redis });
      await buffer.accept({
        ...address,
        taskId: "task",
        payload: 1,
        options: { metadata: { a: 1 }, tags: ["x"] },
      });
      const entry = await buffer.getEntry(address);
      if (entry === undefined) throw new Error("entry missing");
      expect(runFromEntry({ snapshot: entry.snapshot }, { now: 0 })).toMatchObject({
        status: "QUEUED",
        tags: ["x"],
        metadata: '{"a":1}',
        metadataVersion: 0,
      });
    },
  );
});
