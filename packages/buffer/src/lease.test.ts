import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { MISSING_ACCEPT_TIME_ERROR } from "./entry-value.js";
import { entryField } from "./generated/entry-record.js";
import type { RedisClient } from "./lua-script.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };

function input(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, ...env, taskId: "task", payload: { n: runId }, options: {}, ...overrides };
}

function sequence(values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
}

async function fill(buffer: MollifierBuffer, runIds: string[]): Promise<void> {
  for (const runId of runIds) await buffer.accept(input(runId));
}

async function queue(redis: RedisClient, buffer: MollifierBuffer): Promise<string[]> {
  return redis.lrange(buffer.keys.env("org", "env").queue, 0, -1);
}

describe.each(redisTopologies)("lease, extendLease, ack and the lease reaper on $name", ({ test }) => {
  test("leases up to N entries from the head of the queue in one call, deadline from Redis TIME", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, leaseMs: 10_000 });
    await fill(buffer, ["a", "b", "c"]);
    const [seconds] = await redis.time();
    const { entries, invalid } = await buffer.lease({ ...env, count: 2 });
    expect(invalid).toEqual([]);
    expect(entries.map((entry) => entry.runId)).toEqual(["a", "b"]);
    const first = entries[0];
    expect(first).toMatchObject({
      attempts: 0,
      snapshot: { runId: "a", taskId: "task", payload: { n: "a" } },
    });
    expect(first?.mutations).toEqual({ tags: [], metadataVersion: 0, idempotencyReset: false });
    expect(Math.abs((first?.leaseDeadline ?? 0) - (Number(seconds) * 1000 + 10_000))).toBeLessThan(5_000);
    expect(await queue(redis, buffer)).toEqual(["c"]);
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({ state: "leased" });
    expect(await buffer.depth(env)).toBe(3);
    expect((await buffer.stats()).leasesInFlight).toBe(2);
    // The lease token alone marks a leased entry: no state field is written for it.
    const fields = await redis.hkeys(buffer.keys.env(env.orgId, env.envId).entries);
    expect(fields.filter((field) => field.startsWith("a")).sort()).toEqual(["a", entryField("a", "lease")]);
  });

  test("an entry an earlier version leased (with a `leased` state field) still reads and guards as leased", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await fill(buffer, ["a"]);
    await buffer.lease({ ...env, count: 1 });
    await redis.hset(buffer.keys.env(env.orgId, env.envId).entries, entryField("a", "state"), "leased");
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({ state: "leased" });
    expect(await buffer.cancel({ ...env, runId: "a", reason: "late" })).toEqual({ outcome: "busy" });
  });

  test("an env leaves the active indexes when its queue empties and comes back on accept", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await fill(buffer, ["a"]);
    const shard = buffer.keys.shardOf("org");
    expect(await buffer.activeOrgs(shard)).toEqual(["org"]);
    await buffer.lease({ ...env, count: 5 });
    expect(await buffer.activeEnvs("org")).toEqual([]);
    expect(await buffer.activeOrgs(shard)).toEqual([]);
    expect(await buffer.lease({ ...env, count: 5 })).toEqual({ entries: [], invalid: [] });
    await fill(buffer, ["b"]);
    expect(await buffer.activeEnvs("org")).toEqual(["env"]);
  });

  test("each lease gets its own token from crypto, whatever the injected jitter source returns", async ({
    redis,
  }) => {
    // A jitter source stuck on one value must not make two leases share a token.
    const buffer = new MollifierBuffer({ redis, random: () => 0.5 });
    await fill(buffer, ["a", "b"]);
    const [one] = (await buffer.lease({ ...env, count: 1 })).entries;
    const [two] = (await buffer.lease({ ...env, count: 1 })).entries;
    expect(one?.leaseToken).toMatch(/^[0-9a-f]{32}$/);
    expect(one?.leaseToken).not.toBe(two?.leaseToken);
  });

  test("ack removes the entry, its depth and its idempotency index", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("a", { options: { idempotencyKey: "k" } }));
    const [entry] = (await buffer.lease({ ...env, count: 1 })).entries;
    if (!entry) throw new Error("nothing leased");
    expect(await buffer.ack(entry)).toEqual({ outcome: "acked" });
    expect(await buffer.getEntry({ ...env, runId: "a" })).toBeUndefined();
    expect(await buffer.depth(env)).toBe(0);
    expect(await buffer.depth({ orgId: "org" })).toBe(0);
    expect(await redis.get(buffer.keys.idempotency("org", "env", "task", "k"))).toBeNull();
    expect(await buffer.ack(entry)).toEqual({ outcome: "lease_lost" });
    expect(await buffer.accept(input("b", { options: { idempotencyKey: "k" } }))).toMatchObject({
      outcome: "accepted",
    });
  });

  test("ack leaves an idempotency index that already names another run", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("a", { options: { idempotencyKey: "k" } }));
    const [entry] = (await buffer.lease({ ...env, count: 1 })).entries;
    if (!entry) throw new Error("nothing leased");
    await redis.set(buffer.keys.idempotency("org", "env", "task", "k"), "someone-else");
    await buffer.ack(entry);
    expect(await redis.get(buffer.keys.idempotency("org", "env", "task", "k"))).toBe("someone-else");
  });

  test("extendLease moves the deadline; a stale token answers lease_lost", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, leaseMs: 1_000 });
    await fill(buffer, ["a"]);
    const [entry] = (await buffer.lease({ ...env, count: 1 })).entries;
    if (!entry) throw new Error("nothing leased");
    const extended = await buffer.extendLease(entry, 60_000);
    expect(extended.outcome).toBe("extended");
    if (extended.outcome !== "extended") return;
    expect(extended.leaseDeadline).toBeGreaterThan(entry.leaseDeadline + 50_000);
    expect(await buffer.extendLease({ ...entry, leaseToken: "stale" })).toEqual({ outcome: "lease_lost" });
    expect(await buffer.ack({ ...entry, leaseToken: "stale" })).toEqual({ outcome: "lease_lost" });
  });

  test("a crashed consumer's expired lease is reaped to the head of its queue and delivered again", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({
      redis,
      random: sequence([0.11, 0.22, 0.33, 0.44, 0.55, 0.66, 0.77, 0.88]),
    });
    await fill(buffer, ["a", "b"]);
    const [crashed] = (await buffer.lease({ ...env, count: 1, leaseMs: 50 })).entries;
    if (!crashed) throw new Error("nothing leased");
    // The "crashed" consumer never acks; the reaper runs until the deadline (Redis TIME) has passed.
    await vi.waitFor(
      async () => {
        expect(await buffer.reapExpiredLeases()).toEqual({
          reaped: 1,
          failed: 0,
          failedEntries: [],
          unavailableShards: [],
        });
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(await queue(redis, buffer)).toEqual(["a", "b"]);
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({
      state: "queued",
      attempts: 1,
      position: 0,
    });
    const [again] = (await buffer.lease({ ...env, count: 1 })).entries;
    expect(again).toMatchObject({ runId: "a", attempts: 1, snapshot: { payload: { n: "a" } } });
    // The crashed holder's late calls cannot touch the new lease.
    expect(await buffer.ack(crashed)).toEqual({ outcome: "lease_lost" });
    expect(await buffer.extendLease(crashed)).toEqual({ outcome: "lease_lost" });
    expect(await buffer.fail(crashed, { error: "late" })).toEqual({ outcome: "lease_lost" });
    expect(await buffer.retry(crashed, { error: "late" })).toEqual({ outcome: "lease_lost" });
    if (!again) throw new Error("nothing leased");
    expect(await buffer.ack(again)).toEqual({ outcome: "acked" });
  });

  test("the reaper leaves unexpired leases alone and concurrent reapers move an entry once", async ({
    redis,
    createRedisClient,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const other = new MollifierBuffer({ redis: createRedisClient() });
    await fill(buffer, ["a", "b"]);
    const { entries } = await buffer.lease({ ...env, count: 2 });
    expect(await buffer.reapExpiredLeases()).toEqual({
      reaped: 0,
      failed: 0,
      failedEntries: [],
      unavailableShards: [],
    });
    // Expire one lease by hand (its deadline in the past), then race two reapers.
    const member = buffer.keys.entryMember("org", "env", "a");
    await redis.zadd(buffer.keys.env("org", "env").leases, "XX", 1, member);
    const [first, second] = await Promise.all([buffer.reapExpiredLeases(), other.reapExpiredLeases()]);
    expect((first?.reaped ?? 0) + (second?.reaped ?? 0)).toBe(1);
    expect(await queue(redis, buffer)).toEqual(["a"]);
    expect(entries).toHaveLength(2);
  });

  test("an entry whose snapshot no longer parses is failed, not left blocking its queue", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await fill(buffer, ["bad", "good"]);
    await redis.hset(buffer.keys.env("org", "env").entries, "bad", '1790000000000|{"schemaVersion":99}');
    const { entries, invalid } = await buffer.lease({ ...env, count: 2 });
    expect(entries.map((entry) => entry.runId)).toEqual(["good"]);
    expect(invalid).toEqual([{ runId: "bad", error: expect.stringMatching(/schema/) }]);
    expect(await buffer.getEntry({ ...env, runId: "bad" })).toBeUndefined();
    expect(await buffer.getFailed({ ...env, runId: "bad" })).toMatchObject({
      kind: "invalid_entry",
      rawSnapshot: '{"schemaVersion":99}',
    });
    expect(await buffer.depth(env)).toBe(1);
    expect((await buffer.stats()).leasesInFlight).toBe(1);
  });

  test("an entry value without the accept-time prefix is failed as invalid, not thrown", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await fill(buffer, ["bad", "good"]);
    await redis.hset(buffer.keys.env("org", "env").entries, "bad", '{"schemaVersion":1}');
    const { entries, invalid } = await buffer.lease({ ...env, count: 2 });
    expect(entries.map((entry) => entry.runId)).toEqual(["good"]);
    expect(invalid).toEqual([{ runId: "bad", error: MISSING_ACCEPT_TIME_ERROR }]);
    expect(await buffer.getFailed({ ...env, runId: "bad" })).toMatchObject({
      kind: "invalid_entry",
      rawSnapshot: '{"schemaVersion":1}',
    });
  });

  test("concurrent consumers on separate connections never lease the same entry twice", async ({
    redis,
    createRedisClient,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const ids = Array.from({ length: 60 }, (_, index) => `run-${index}`);
    await buffer.acceptBatch(ids.map((runId) => input(runId)));
    const consumers = [0, 1, 2].map(() => new MollifierBuffer({ redis: createRedisClient() }));
    const leased = await Promise.all(
      consumers.map(async (consumer) => {
        const mine: string[] = [];
        for (;;) {
          const { entries } = await consumer.lease({ ...env, count: 4 });
          if (entries.length === 0) return mine;
          mine.push(...entries.map((entry) => entry.runId));
        }
      }),
    );
    const all = leased.flat();
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
    // Each consumer saw its entries in queue order.
    for (const mine of leased)
      expect(mine).toEqual([...mine].sort((a, b) => ids.indexOf(a) - ids.indexOf(b)));
  });

  test("rejects a lease count outside 1 … 1000", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await expect(buffer.lease({ ...env, count: 0 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(buffer.lease({ ...env, count: 1001 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});
