import { type RedisClient, redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { encodeSegment } from "./keys.js";
import { MAX_METADATA_BYTES } from "./mutations.js";
import type { AcceptInput } from "./snapshot.js";

const entry = { orgId: "org_1", envId: "env_1", runId: "run_1" };

function trigger(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return {
    runId,
    orgId: entry.orgId,
    envId: entry.envId,
    taskId: "send-email",
    payload: { n: 1 },
    ...overrides,
  };
}

async function accepted(redis: RedisClient, options: AcceptInput["options"] = {}) {
  const buffer = new MollifierBuffer({ redis, maxTags: 4 });
  expect((await buffer.accept(trigger(entry.runId, { options }))).outcome).toBe("accepted");
  return buffer;
}

async function leased(buffer: MollifierBuffer) {
  const { entries } = await buffer.lease({ orgId: entry.orgId, envId: entry.envId, count: 1 });
  expect(entries.map((leasedEntry) => leasedEntry.runId)).toEqual([entry.runId]);
  return entries[0];
}

/** Every field of the env's entries hash, to show a refused mutation wrote nothing. */
async function entryFields(buffer: MollifierBuffer, redis: RedisClient) {
  return redis.hgetall(buffer.keys.env(entry.orgId, entry.envId).entries);
}

describe.each(redisTopologies)("mutations on $name", ({ test }) => {
  test("cancel stores when and why beside the snapshot, which is left as it was", async ({ redis }) => {
    const buffer = await accepted(redis);
    const field = encodeSegment(entry.runId);
    const entries = buffer.keys.env(entry.orgId, entry.envId).entries;
    const snapshotBefore = await redis.hget(entries, field);

    const result = await buffer.cancel({ ...entry, reason: "user asked" });
    expect(result.outcome).toBe("canceled");
    if (result.outcome !== "canceled") return;
    expect(result.at).toBeGreaterThan(0);
    const view = await buffer.getEntry(entry);
    expect(view?.mutations.canceled).toEqual({ at: result.at, reason: "user asked" });
    expect(view?.state).toBe("queued");
    expect(await redis.hget(entries, field)).toBe(snapshotBefore);
  });

  test("a second cancel answers already_canceled with the first time, also while leased", async ({
    redis,
  }) => {
    const buffer = await accepted(redis);
    const first = await buffer.cancel({ ...entry, reason: "first" });
    if (first.outcome !== "canceled") throw new Error(`expected canceled, got ${first.outcome}`);
    expect(await buffer.cancel({ ...entry, reason: "second" })).toEqual({
      outcome: "already_canceled",
      at: first.at,
    });
    await leased(buffer);
    expect(await buffer.cancel({ ...entry, reason: "third" })).toEqual({
      outcome: "already_canceled",
      at: first.at,
    });
    expect((await buffer.getEntry(entry))?.mutations.canceled?.reason).toBe("first");
  });

  test("addTags merges with the snapshot's tags, deduplicates and keeps order", async ({ redis }) => {
    const buffer = await accepted(redis, { tags: ["a", "b"] });
    expect(await buffer.addTags({ ...entry, tags: ["b", "c", "c"] })).toEqual({
      outcome: "updated",
      tags: ["a", "b", "c"],
    });
    expect(await buffer.addTags({ ...entry, tags: ["a", "d"] })).toEqual({
      outcome: "updated",
      tags: ["a", "b", "c", "d"],
    });
    expect((await buffer.getEntry(entry))?.mutations.tags).toEqual(["c", "d"]);
    expect(await buffer.addTags({ ...entry, tags: [] })).toEqual({
      outcome: "updated",
      tags: ["a", "b", "c", "d"],
    });
  });

  test("addTags beyond maxTags answers too_many_tags and writes nothing", async ({ redis }) => {
    const buffer = await accepted(redis, { tags: ["a", "b"] });
    await buffer.addTags({ ...entry, tags: ["c"] });
    const before = await entryFields(buffer, redis);
    expect(await buffer.addTags({ ...entry, tags: ["d", "e"] })).toEqual({
      outcome: "too_many_tags",
      limit: 4,
    });
    const manyNew = Array.from({ length: 100 }, (_, index) => `t${index}`);
    expect(await buffer.addTags({ ...entry, tags: manyNew })).toEqual({
      outcome: "too_many_tags",
      limit: 4,
    });
    expect(await entryFields(buffer, redis)).toEqual(before);
    // Tags it already has do not count twice.
    expect(await buffer.addTags({ ...entry, tags: ["a", "c", "d"] })).toEqual({
      outcome: "updated",
      tags: ["a", "b", "c", "d"],
    });
  });

  test("an entry without tags takes added tags up to the default cap of 10", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger(entry.runId));
    const ten = Array.from({ length: 10 }, (_, index) => `t${index}`);
    expect(await buffer.addTags({ ...entry, tags: ten })).toEqual({ outcome: "updated", tags: ten });
    expect(await buffer.addTags({ ...entry, tags: ["one-more"] })).toEqual({
      outcome: "too_many_tags",
      limit: 10,
    });
  });

  test("setMetadata compares and sets on the version: updated, then version_conflict for a stale version", async ({
    redis,
  }) => {
    const buffer = await accepted(redis);
    expect(await buffer.setMetadata({ ...entry, metadata: '{"step":1}', expectedVersion: 0 })).toEqual({
      outcome: "updated",
      version: 1,
    });
    expect(await buffer.setMetadata({ ...entry, metadata: '{"step":2}', expectedVersion: 0 })).toEqual({
      outcome: "version_conflict",
      version: 1,
    });
    expect(await buffer.setMetadata({ ...entry, metadata: '{"step":2}', expectedVersion: 1 })).toEqual({
      outcome: "updated",
      version: 2,
    });
    const view = await buffer.getEntry(entry);
    expect(view?.mutations).toMatchObject({ metadata: '{"step":2}', metadataVersion: 2 });
  });

  test("50 concurrent setMetadata updaters retrying on conflict lose no update", async ({
    redis,
    createRedisClient,
  }) => {
    const buffer = await accepted(redis);
    const clients = [redis, createRedisClient(), createRedisClient(), createRedisClient()];
    const updater = async (index: number) => {
      const own = new MollifierBuffer({ redis: clients[index % clients.length] ?? redis });
      for (let attempt = 0; attempt < 1_000; attempt++) {
        const view = await own.getEntry(entry);
        if (view === undefined) throw new Error("entry vanished");
        const writers: number[] =
          view.mutations.metadata === undefined ? [] : JSON.parse(view.mutations.metadata);
        const result = await own.setMetadata({
          ...entry,
          metadata: JSON.stringify([...writers, index]),
          expectedVersion: view.mutations.metadataVersion,
        });
        if (result.outcome === "updated") return;
        expect(result.outcome).toBe("version_conflict");
      }
      throw new Error(`updater ${index} never won`);
    };
    await Promise.all(Array.from({ length: 50 }, (_, index) => updater(index)));

    const view = await buffer.getEntry(entry);
    expect(view?.mutations.metadataVersion).toBe(50);
    const writers: number[] = JSON.parse(view?.mutations.metadata ?? "[]");
    expect([...writers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index));
  });

  test("setMetadata rejects text that is not JSON or is over 256 KiB before writing", async ({ redis }) => {
    const buffer = await accepted(redis);
    const before = await entryFields(buffer, redis);
    await expect(
      buffer.setMetadata({ ...entry, metadata: "{not json", expectedVersion: 0 }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    const huge = JSON.stringify("x".repeat(MAX_METADATA_BYTES));
    await expect(buffer.setMetadata({ ...entry, metadata: huge, expectedVersion: 0 })).rejects.toThrow(
      /bytes/,
    );
    await expect(buffer.setMetadata({ ...entry, metadata: "{}", expectedVersion: -1 })).rejects.toMatchObject(
      { code: "INVALID_INPUT" },
    );
    expect(await entryFields(buffer, redis)).toEqual(before);
  });

  test("setDelay stores the new start time as a field", async ({ redis }) => {
    const buffer = await accepted(redis, { delayUntil: 1_000 });
    expect(await buffer.setDelay({ ...entry, delayUntil: 2_000_000_000_000 })).toEqual({
      outcome: "updated",
      delayUntil: 2_000_000_000_000,
    });
    const view = await buffer.getEntry(entry);
    expect(view?.mutations.delayUntil).toBe(2_000_000_000_000);
    expect(view?.snapshot.options.delayUntil).toBe(1_000);
    await expect(buffer.setDelay({ ...entry, delayUntil: Number.NaN })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });

  test("every mutation answers busy on a leased entry and writes nothing", async ({ redis }) => {
    const buffer = await accepted(redis, { tags: ["a"] });
    await leased(buffer);
    const before = await entryFields(buffer, redis);
    expect(await buffer.cancel({ ...entry, reason: "r" })).toEqual({ outcome: "busy" });
    expect(await buffer.addTags({ ...entry, tags: ["b"] })).toEqual({ outcome: "busy" });
    expect(await buffer.setMetadata({ ...entry, metadata: "{}", expectedVersion: 0 })).toEqual({
      outcome: "busy",
    });
    expect(await buffer.setDelay({ ...entry, delayUntil: 5 })).toEqual({ outcome: "busy" });
    expect(await entryFields(buffer, redis)).toEqual(before);
  });

  test("every mutation applies to an entry waiting for a retry", async ({ redis }) => {
    const buffer = await accepted(redis);
    const lease = await leased(buffer);
    if (lease === undefined) throw new Error("nothing leased");
    expect((await buffer.retry(lease, { error: "db down" })).outcome).toBe("scheduled");
    expect((await buffer.getEntry(entry))?.state).toBe("retrying");

    expect((await buffer.cancel({ ...entry, reason: "r" })).outcome).toBe("canceled");
    expect(await buffer.addTags({ ...entry, tags: ["b"] })).toEqual({
      outcome: "updated",
      tags: ["b"],
    });
    expect(await buffer.setMetadata({ ...entry, metadata: "{}", expectedVersion: 0 })).toEqual({
      outcome: "updated",
      version: 1,
    });
    expect(await buffer.setDelay({ ...entry, delayUntil: 5 })).toEqual({
      outcome: "updated",
      delayUntil: 5,
    });
  });

  test("every mutation answers not_found for a run that is not buffered, including after ack", async ({
    redis,
  }) => {
    const buffer = await accepted(redis);
    const missing = { ...entry, runId: "run_missing" };
    expect(await buffer.cancel({ ...missing, reason: "r" })).toEqual({ outcome: "not_found" });
    expect(await buffer.addTags({ ...missing, tags: ["b"] })).toEqual({ outcome: "not_found" });
    expect(await buffer.setMetadata({ ...missing, metadata: "{}", expectedVersion: 0 })).toEqual({
      outcome: "not_found",
    });
    expect(await buffer.setDelay({ ...missing, delayUntil: 5 })).toEqual({ outcome: "not_found" });

    const lease = await leased(buffer);
    if (lease === undefined) throw new Error("nothing leased");
    expect(await buffer.ack(lease)).toEqual({ outcome: "acked" });
    expect(await buffer.cancel({ ...entry, reason: "r" })).toEqual({ outcome: "not_found" });
    expect(await buffer.setDelay({ ...entry, delayUntil: 5 })).toEqual({ outcome: "not_found" });
  });

  test("hostile run ids and another tenant's ids never touch the entry", async ({ redis }) => {
    const buffer = await accepted(redis);
    const before = await entryFields(buffer, redis);
    const lookalikes = [
      { ...entry, runId: `${entry.runId}:canceledAt` },
      { ...entry, runId: `${entry.runId}:metadataVersion` },
      { ...entry, runId: "run%5F1" },
      { ...entry, orgId: "org_2" },
      { ...entry, envId: "env_2" },
      { ...entry, orgId: "org_1:env_1", envId: "run_1" },
      { ...entry, envId: "env_1}:{mollifier:0}" },
    ];
    for (const other of lookalikes) {
      expect(await buffer.cancel({ ...other, reason: "r" })).toEqual({ outcome: "not_found" });
      expect(await buffer.addTags({ ...other, tags: ["b"] })).toEqual({ outcome: "not_found" });
      expect(await buffer.setMetadata({ ...other, metadata: "{}", expectedVersion: 0 })).toEqual({
        outcome: "not_found",
      });
      expect(await buffer.setDelay({ ...other, delayUntil: 5 })).toEqual({ outcome: "not_found" });
    }
    expect(await entryFields(buffer, redis)).toEqual(before);
  });

  test("a run id with reserved characters is mutated under its own encoded fields", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const hostile = { ...entry, runId: "run:1/{ü}" };
    await buffer.accept(trigger(hostile.runId));
    expect((await buffer.cancel({ ...hostile, reason: "r" })).outcome).toBe("canceled");
    expect(await buffer.addTags({ ...hostile, tags: ["x"] })).toEqual({
      outcome: "updated",
      tags: ["x"],
    });
    expect((await buffer.getEntry(hostile))?.mutations).toMatchObject({
      tags: ["x"],
      canceled: { reason: "r" },
    });
  });

  test("bad input throws before anything is written", async ({ redis }) => {
    const buffer = await accepted(redis);
    const before = await entryFields(buffer, redis);
    await expect(buffer.cancel({ ...entry, runId: "", reason: "r" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(buffer.cancel({ ...entry, reason: "r".repeat(2_000) })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(buffer.addTags({ ...entry, tags: [""] })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(buffer.addTags({ ...entry, tags: ["t".repeat(200)] })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await entryFields(buffer, redis)).toEqual(before);
  });
});
