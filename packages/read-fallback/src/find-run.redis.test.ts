import { type AcceptInput, BufferKeys, MollifierBuffer } from "@mollifier/buffer";
import { type RedisClient, redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { InMemoryRunStore, materialise } from "./fakes.test-support.js";
import { createReadFallback } from "./read-fallback.js";

const shardCount = 4;
const ref = { orgId: "org_1", envId: "env_1", runId: "run_1" };
const key = { orgId: "org_1", envId: "env_1", taskId: "send-email", idempotencyKey: "key-1" };
const input: AcceptInput = {
  ...ref,
  taskId: "send-email",
  payload: { to: "a@example.com" },
  options: { idempotencyKey: "key-1", tags: ["first"] },
};

// Another org in the same shard (same hash slot), so isolation cannot come from slots alone.
const keys = new BufferKeys({ shardCount });
const sameShardOrg =
  Array.from({ length: 100 }, (_, index) => `org_${index + 2}`).find(
    (orgId) => keys.shardOf(orgId) === keys.shardOf(ref.orgId),
  ) ?? "org_2";

function setUp(redis: RedisClient) {
  const buffer = new MollifierBuffer({ redis, shardCount });
  const runStore = new InMemoryRunStore();
  const readFallback = createReadFallback({ buffer, runStore, estimateDrainRate: () => 20 });
  return { buffer, runStore, readFallback };
}

/** A run store whose database is down: every read fails the way `pg` fails on a refused connection. */
class DownRunStore extends InMemoryRunStore {
  override async findRun(): Promise<never> {
    throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  }
  override async findRunByIdempotencyKey(): Promise<never> {
    throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  }
}

describe.each(redisTopologies)("reads of buffered runs on $name", ({ test }) => {
  test("with the database down, buffered runs and their idempotency keys are still answered from the buffer; other reads throw the database's error", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, shardCount });
    const readFallback = createReadFallback({
      buffer,
      runStore: new DownRunStore(),
      estimateDrainRate: () => 20,
    });
    await buffer.accept(input);
    expect(await readFallback.findRun(ref)).toMatchObject({
      outcome: "found",
      run: { id: "run_1", source: "buffer" },
    });
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run_1" },
    });
    await expect(readFallback.findRun({ ...ref, runId: "run_elsewhere" })).rejects.toThrow("ECONNREFUSED");
    await expect(readFallback.findIdempotentRun({ ...key, idempotencyKey: "other" })).rejects.toThrow(
      "ECONNREFUSED",
    );
  });

  test("buffered runs read as QUEUED with their position and ETA, or DELAYED, with tags and idempotency key", async ({
    redis,
  }) => {
    const { buffer, readFallback } = setUp(redis);
    await buffer.accept({ ...input, runId: "run_0", options: {} });
    await buffer.accept(input);
    await buffer.accept({ ...input, runId: "run_2", options: { delayUntil: Date.now() + 3_600_000 } });
    const before = Date.now();
    const found = await readFallback.findRun(ref);
    expect(found).toMatchObject({
      outcome: "found",
      run: {
        id: "run_1",
        taskId: "send-email",
        status: "QUEUED",
        payload: { to: "a@example.com" },
        tags: ["first"],
        idempotencyKey: "key-1",
        metadataVersion: 0,
        source: "buffer",
        queuePosition: 1,
      },
    });
    // Two runs to drain at 20 per second: about 100 ms from the read.
    const eta = found.outcome === "found" ? found.run.estimatedStartAt : undefined;
    expect(eta).toBeGreaterThanOrEqual(before + 100);
    expect(await readFallback.findRun({ ...ref, runId: "run_2" })).toMatchObject({
      run: { status: "DELAYED" },
    });
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run_1" },
    });
  });

  test("a run the drainer has written and acked is read from the database", async ({ redis }) => {
    const { buffer, runStore, readFallback } = setUp(redis);
    await buffer.accept(input);
    const { entries } = await buffer.lease({ orgId: ref.orgId, envId: ref.envId, count: 1 });
    const [leased] = entries;
    if (leased === undefined) throw new Error("nothing leased");
    expect(await readFallback.findRun(ref)).toMatchObject({ run: { status: "QUEUED", source: "buffer" } });
    runStore.insert(materialise(leased));
    await buffer.ack(leased);
    expect(await readFallback.findRun(ref)).toMatchObject({ run: { status: "PENDING", source: "database" } });
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run_1", source: "database" },
    });
  });

  test("reads and mutations from another org or env never see or change a buffered run", async ({
    redis,
  }) => {
    const { buffer, runStore, readFallback } = setUp(redis);
    await buffer.accept(input);
    const untouched = await buffer.getEntry(ref);
    for (const other of [
      { orgId: sameShardOrg, envId: ref.envId },
      { orgId: "org_other", envId: ref.envId },
      { orgId: ref.orgId, envId: "env_other" },
    ]) {
      const otherRef = { ...other, runId: ref.runId };
      const otherKey = { ...other, taskId: key.taskId, idempotencyKey: key.idempotencyKey };
      expect(await readFallback.findRun(otherRef)).toEqual({ outcome: "not_found" });
      expect(await readFallback.findIdempotentRun(otherKey)).toEqual({ outcome: "not_found" });
      expect(await readFallback.cancelRun(otherRef)).toEqual({ outcome: "not_found" });
      expect(await readFallback.addTags({ ...otherRef, tags: ["intruder"] })).toEqual({
        outcome: "not_found",
      });
      expect(await readFallback.updateMetadata({ ...otherRef, update: () => '{"owned":true}' })).toEqual({
        outcome: "not_found",
      });
      expect(await readFallback.rescheduleRun({ ...otherRef, delayUntil: Date.now() + 1_000 })).toEqual({
        outcome: "not_found",
      });
      expect(await readFallback.resetIdempotencyKey(otherKey)).toEqual({ outcome: "not_found" });
    }
    expect(await buffer.getEntry(ref)).toEqual(untouched);
    expect(await buffer.lookupIdempotency(key)).toEqual({ outcome: "found", runId: "run_1" });
    // Every database call carried the caller's own org and env, never the run's.
    for (const call of runStore.calls) {
      expect(call.request).not.toMatchObject({ orgId: ref.orgId, envId: ref.envId });
    }
  });

  test("reads and mutations from another org or env never see or change a run in the database", async ({
    redis,
  }) => {
    const { buffer, runStore, readFallback } = setUp(redis);
    await buffer.accept(input);
    const { entries } = await buffer.lease({ orgId: ref.orgId, envId: ref.envId, count: 1 });
    const [leased] = entries;
    if (leased === undefined) throw new Error("nothing leased");
    runStore.insert(materialise(leased));
    await buffer.ack(leased);
    const row = runStore.runs.get(ref.runId);
    const otherRef = { ...ref, orgId: sameShardOrg };
    expect(await readFallback.findRun(otherRef)).toEqual({ outcome: "not_found" });
    expect(await readFallback.cancelRun(otherRef)).toEqual({ outcome: "not_found" });
    expect(await readFallback.updateMetadata({ ...otherRef, update: () => "{}" })).toEqual({
      outcome: "not_found",
    });
    expect(await readFallback.resetIdempotencyKey({ ...key, envId: "env_other" })).toEqual({
      outcome: "not_found",
    });
    expect(runStore.runs.get(ref.runId)).toEqual(row);
  });
});
