import { type AcceptInput, MollifierBuffer } from "@mollifier/buffer";
import { type RedisClient, redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { InMemoryRunStore, materialise } from "./fakes.test-support.js";
import { createReadFallback } from "./read-fallback.js";
import type { ReadFallbackOptions } from "./read-fallback-options.js";

const ref = { orgId: "org_1", envId: "env_1", runId: "run_1" };
const input: AcceptInput = {
  ...ref,
  taskId: "send-email",
  payload: { to: "a@example.com" },
  options: { idempotencyKey: "key-1", tags: ["first"], delayUntil: Date.now() + 3_600_000 },
};

function setUp(redis: RedisClient, options: Partial<ReadFallbackOptions> = {}) {
  const buffer = new MollifierBuffer({ redis, shardCount: 4 });
  const runStore = new InMemoryRunStore();
  const readFallback = createReadFallback({ buffer, runStore, ...options });
  return { buffer, runStore, readFallback };
}

/** A sleep that reports each wait, so a test can act while a mutation is polling. */
function observedSleep() {
  let signal: () => void = () => {};
  const firstWait = new Promise<void>((resolve) => {
    signal = resolve;
  });
  return {
    firstWait,
    sleep: (ms: number) => {
      signal();
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    },
  };
}

describe.each(redisTopologies)("mutations of a buffered run on $name", ({ test }) => {
  test("a queued run is canceled, tagged, rescheduled and its key reset in the buffer, and reads show it", async ({
    redis,
  }) => {
    const { buffer, runStore, readFallback } = setUp(redis);
    await buffer.accept(input);
    expect(await readFallback.findRun(ref)).toMatchObject({ run: { status: "DELAYED", source: "buffer" } });

    const delayUntil = Date.now() + 7_200_000;
    expect(await readFallback.rescheduleRun({ ...ref, delayUntil })).toEqual({
      outcome: "updated",
      delayUntil,
      source: "buffer",
    });
    expect(await readFallback.addTags({ ...ref, tags: ["second"] })).toEqual({
      outcome: "updated",
      tags: ["first", "second"],
      source: "buffer",
    });
    const reset = await readFallback.resetIdempotencyKey({
      ...ref,
      taskId: "send-email",
      idempotencyKey: "key-1",
    });
    expect(reset).toEqual({ outcome: "reset", runIds: ["run_1"] });
    expect(await readFallback.cancelRun({ ...ref, reason: "user" })).toMatchObject({
      outcome: "canceled",
      source: "buffer",
    });

    expect(await readFallback.findRun(ref)).toMatchObject({
      outcome: "found",
      run: {
        status: "CANCELED",
        tags: ["first", "second"],
        idempotencyKey: undefined,
        delayUntil,
        source: "buffer",
      },
    });
    expect(
      runStore.calls.filter((call) => call.method !== "findRun" && call.method !== "resetIdempotencyKey"),
    ).toEqual([]);
  });

  test("50 concurrent metadata updates of one buffered run lose none", async ({
    redis,
    createRedisClient,
  }) => {
    const { buffer } = setUp(redis);
    await buffer.accept({ ...input, options: {} });
    // 50 attempts always suffice for 50 updates: each failed compare-and-set means another one succeeded.
    const writers = Array.from({ length: 5 }, () => setUp(createRedisClient(), { maxMetadataAttempts: 50 }));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        writers[index % writers.length]?.readFallback.updateMetadata({
          ...ref,
          update: (current) =>
            JSON.stringify([...(current === undefined ? [] : (JSON.parse(current) as number[])), index]),
        }),
      ),
    );
    expect(results.map((result) => result?.outcome)).toEqual(Array(50).fill("updated"));
    const found = await setUp(redis).readFallback.findRun(ref);
    if (found.outcome !== "found") throw new Error(`expected found, got ${found.outcome}`);
    expect(found.run.metadataVersion).toBe(50);
    expect((JSON.parse(found.run.metadata ?? "[]") as number[]).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, index) => index),
    );
  });

  test("a mutation racing the drainer waits while the entry is leased and lands in the database", async ({
    redis,
  }) => {
    const observed = observedSleep();
    const { buffer, runStore, readFallback } = setUp(redis, {
      sleep: observed.sleep,
      leasePolling: { initialDelayMs: 10, maxDelayMs: 50, maxWaitMs: 20_000 },
    });
    await buffer.accept({ ...input, options: {} });
    // The test plays the drainer: lease, write the row, ack.
    const { entries } = await buffer.lease({ orgId: ref.orgId, envId: ref.envId, count: 1 });
    const [leased] = entries;
    if (leased === undefined) throw new Error("nothing leased");

    const canceling = readFallback.cancelRun({ ...ref, reason: "user" });
    const updating = readFallback.updateMetadata({ ...ref, update: () => '{"step":1}' });
    await observed.firstWait;
    expect(runStore.calls).toEqual([]);
    runStore.insert(materialise(leased));
    expect(await buffer.ack(leased)).toEqual({ outcome: "acked" });

    expect(await canceling).toMatchObject({ outcome: "canceled", source: "database" });
    expect(await updating).toMatchObject({ outcome: "updated", version: 1, source: "database" });
    expect(runStore.runs.get(ref.runId)).toMatchObject({ status: "CANCELED", metadata: '{"step":1}' });
    expect(await buffer.getEntry(ref)).toBeUndefined();
    expect(await readFallback.findRun(ref)).toMatchObject({
      run: { status: "CANCELED", source: "database" },
    });
  });

  test("a mutation of an entry that stays leased past the bound answers timed_out and changes nothing", async ({
    redis,
  }) => {
    const { buffer, readFallback } = setUp(redis, {
      leasePolling: { initialDelayMs: 5, maxDelayMs: 20, maxWaitMs: 100 },
    });
    await buffer.accept({ ...input, options: {} });
    await buffer.lease({ orgId: ref.orgId, envId: ref.envId, count: 1 });
    expect(await readFallback.addTags({ ...ref, tags: ["late"] })).toMatchObject({ outcome: "timed_out" });
    expect((await buffer.getEntry(ref))?.mutations.tags).toEqual([]);
  });
});
