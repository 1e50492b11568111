import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { LeasedEntry } from "./entry-view.js";
import type { RedisClient } from "./lua-script.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };

function input(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, ...env, taskId: "task", payload: { n: runId }, options: {}, ...overrides };
}

async function leaseOne(buffer: MollifierBuffer): Promise<LeasedEntry> {
  const [entry] = (await buffer.lease({ ...env, count: 1 })).entries;
  if (!entry) throw new Error("nothing leased");
  return entry;
}

async function queue(redis: RedisClient, buffer: MollifierBuffer): Promise<string[]> {
  return redis.lrange(buffer.keys.env("org", "env").queue, 0, -1);
}

describe.each(redisTopologies)("retry, promoteDueRetries and fail on $name", ({ test }) => {
  test("retry schedules the entry after a jittered exponential backoff and counts the attempt", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({
      redis,
      retry: { baseDelayMs: 10_000, maxDelayMs: 100_000, jitter: 0.5 },
      random: () => 0.75,
    });
    await buffer.accept(input("a"));
    const entry = await leaseOne(buffer);
    const [seconds] = await redis.time();
    const result = await buffer.retry(entry, { error: "boom" });
    expect(result).toMatchObject({ outcome: "scheduled", delayMs: 6_250, attempts: 1 });
    if (result.outcome !== "scheduled") return;
    expect(Math.abs(result.dueAt - (Number(seconds) * 1000 + 6_250))).toBeLessThan(5_000);
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({ state: "retrying", attempts: 1 });
    expect(await buffer.depth(env)).toBe(1);
    expect((await buffer.stats()).leasesInFlight).toBe(0);
    // Not due yet: nothing moves, and the holder's lease is gone.
    expect(await buffer.promoteDueRetries()).toEqual({ promoted: 0, unavailableShards: [] });
    expect(await buffer.ack(entry)).toEqual({ outcome: "lease_lost" });
  });

  test("a due retry goes back to the head of its queue, ahead of newer entries", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, retry: { baseDelayMs: 20, maxDelayMs: 20, jitter: 0 } });
    await buffer.accept(input("a"));
    await buffer.accept(input("b"));
    const entry = await leaseOne(buffer);
    await buffer.retry(entry, { error: "boom" });
    await buffer.accept(input("c"));
    await vi.waitFor(
      async () => {
        expect(await buffer.promoteDueRetries()).toEqual({ promoted: 1, unavailableShards: [] });
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(await queue(redis, buffer)).toEqual(["a", "b", "c"]);
    expect(await buffer.activeEnvs("org")).toEqual(["env"]);
    const again = await leaseOne(buffer);
    expect(again).toMatchObject({ runId: "a", attempts: 1 });
    // Retried, promoted, leased again and acked: no field of it is left (ack deletes no state field).
    expect(await buffer.ackMany([again])).toEqual([{ outcome: "acked" }]);
    const entries = buffer.keys.env("org", "env").entries;
    expect((await redis.hkeys(entries)).filter((field) => field.startsWith("a"))).toEqual([]);
  });

  test("retry answers exhausted on the last attempt and leaves the entry leased for fail", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 } });
    await buffer.accept(input("a"));
    expect(await buffer.retry(await leaseOne(buffer), { error: "1" })).toMatchObject({
      outcome: "scheduled",
    });
    await buffer.promoteDueRetries();
    const last = await leaseOne(buffer);
    expect(await buffer.retry(last, { error: "2" })).toEqual({ outcome: "exhausted", attempts: 2 });
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({ state: "leased" });
    expect(await buffer.fail(last, { error: "2", kind: "attempts_exhausted" })).toEqual({
      outcome: "failed",
    });
  });

  test("retry answers exhausted when the retry would fall outside the time budget", async ({ redis }) => {
    const buffer = new MollifierBuffer({
      redis,
      retry: { maxAttempts: 100, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0, maxElapsedMs: 30_000 },
    });
    await buffer.accept(input("a"));
    expect(await buffer.retry(await leaseOne(buffer), { error: "slow" })).toEqual({
      outcome: "exhausted",
      attempts: 1,
    });
  });

  test("a FAILED record keeps the mutations the run met while buffered; an unmutated one has none", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("mutated", { options: { tags: ["own"] } }));
    await buffer.accept(input("plain"));
    const address = { ...env, runId: "mutated" };
    expect(await buffer.addTags({ ...address, tags: ["added"] })).toMatchObject({ outcome: "updated" });
    expect(
      await buffer.setMetadata({ ...address, metadata: '{"step":2}', expectedVersion: 0 }),
    ).toMatchObject({
      outcome: "updated",
    });
    expect(await buffer.cancel({ ...address, reason: "no longer needed" })).toMatchObject({
      outcome: "canceled",
    });
    const { entries } = await buffer.lease({ ...env, count: 2 });
    expect(entries.map((entry) => entry.runId)).toEqual(["mutated", "plain"]);
    for (const entry of entries) {
      expect(await buffer.fail(entry, { error: "handler failed" })).toEqual({ outcome: "failed" });
    }
    const mutated = await buffer.getFailed(address);
    expect(mutated?.mutations).toEqual({
      canceled: { at: expect.any(Number), reason: "no longer needed" },
      tags: ["added"],
      metadata: '{"step":2}',
      metadataVersion: 1,
      idempotencyReset: false,
    });
    expect((await buffer.getFailed({ ...env, runId: "plain" }))?.mutations).toEqual({
      tags: [],
      metadataVersion: 0,
      idempotencyReset: false,
    });
  });

  test("fail keeps a FAILED record with its error for the retention time and leaves every queue and index", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, failedRetentionMs: 60_000 });
    await buffer.accept(input("a", { options: { idempotencyKey: "k" } }));
    const entry = await leaseOne(buffer);
    expect(await buffer.fail(entry, { error: "no such task" })).toEqual({ outcome: "failed" });
    expect(await buffer.getEntry({ ...env, runId: "a" })).toBeUndefined();
    const failed = await buffer.getFailed({ ...env, runId: "a" });
    expect(failed).toMatchObject({
      runId: "a",
      error: "no such task",
      kind: "terminal",
      attempts: 0,
      snapshot: { payload: { n: "a" } },
    });
    const ttl = await redis.pttl(buffer.keys.failed("org", "env", "a"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await buffer.depth(env)).toBe(0);
    expect((await buffer.stats()).leasesInFlight).toBe(0);
    expect(await redis.exists(buffer.keys.idempotency("org", "env", "task", "k"))).toBe(0);
    const keys = buffer.keys.env("org", "env");
    expect(await redis.hlen(keys.entries)).toBe(0);
    expect(await buffer.fail(entry, { error: "again" })).toEqual({ outcome: "lease_lost" });
  });
});
