import { redisTopologies } from "@mollifier/testing";
import type { Cluster, Redis } from "ioredis";
import { describe, expect } from "vitest";
import { MAX_ACK_BATCH_GROUP } from "./ack-many.js";
import { MollifierBuffer } from "./buffer.js";
import type { LeasedEntry } from "./entry-view.js";
import { BufferInputError } from "./errors.js";
import type { AcceptInput } from "./snapshot.js";

function input(runId: string, envId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, orgId: "org", envId, taskId: "task", payload: { n: runId }, options: {}, ...overrides };
}

function sequence(values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
}

/** EVALSHA calls served so far, over every master. */
async function scriptCalls(redis: Redis | Cluster): Promise<number> {
  const nodes = "nodes" in redis ? redis.nodes("master") : [redis];
  const infos = await Promise.all(nodes.map((node) => node.info("commandstats")));
  return infos.reduce((sum, info) => sum + Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0), 0);
}

describe.each(redisTopologies)("ackMany on $name", ({ name, test }) => {
  test("acks a batch over several envs and orgs, one result per entry in input order, with lease_lost mixed in", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({
      redis,
      random: sequence([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
    });
    await buffer.acceptBatch([
      input("a1", "env-a"),
      input("a2", "env-a"),
      input("a3", "env-a"),
      input("b1", "env-b"),
      { ...input("c1", "env-c"), orgId: "other-org" },
    ]);
    const envA = (await buffer.lease({ orgId: "org", envId: "env-a", count: 3 })).entries;
    const envB = (await buffer.lease({ orgId: "org", envId: "env-b", count: 1 })).entries;
    const envC = (await buffer.lease({ orgId: "other-org", envId: "env-c", count: 1 })).entries;
    const [a1, a2, a3] = envA;
    const [b1] = envB;
    const [c1] = envC;
    if (!a1 || !a2 || !a3 || !b1 || !c1) throw new Error("nothing leased");

    const results = await buffer.ackMany([b1, { ...a2, leaseToken: "stale" }, a1, c1, a3, a1]);
    expect(results).toEqual([
      { outcome: "acked" },
      { outcome: "lease_lost" },
      { outcome: "acked" },
      { outcome: "acked" },
      { outcome: "acked" },
      // The same entry twice in one batch is acked once.
      { outcome: "lease_lost" },
    ]);
    for (const runId of ["a1", "a3", "b1"]) {
      expect(
        await buffer.getEntry({ orgId: "org", envId: runId === "b1" ? "env-b" : "env-a", runId }),
      ).toBeUndefined();
    }
    expect(await buffer.getEntry({ orgId: "org", envId: "env-a", runId: "a2" })).toMatchObject({
      state: "leased",
    });
    expect(await buffer.depth({ orgId: "org", envId: "env-a" })).toBe(1);
    expect(await buffer.depth({ orgId: "org", envId: "env-b" })).toBe(0);
    expect(await buffer.depth({ orgId: "org" })).toBe(1);
    expect(await buffer.depth({ orgId: "other-org" })).toBe(0);
    expect(await buffer.stats()).toMatchObject({ depth: 1, leasesInFlight: 1 });
    // Every field of an acked entry is gone from its env's hash; the lease_lost one kept all of its own.
    const fields = await redis.hkeys(buffer.keys.env("org", "env-a").entries);
    expect(fields.filter((field) => !field.startsWith("a2"))).toEqual([]);
    expect(await buffer.ackMany([a2])).toEqual([{ outcome: "acked" }]);
    expect(await buffer.ackMany([a2])).toEqual([{ outcome: "lease_lost" }]);
    expect(await buffer.stats()).toMatchObject({ depth: 0, leasesInFlight: 0 });
  });

  test("a mutated entry is leased with its mutations and leaves no field behind once acked", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.acceptBatch([
      input("plain", "env-a"),
      input("mutated", "env-a"),
      input("reset", "env-a", { options: { idempotencyKey: "key-1" } }),
    ]);
    const address = { orgId: "org", envId: "env-a", runId: "mutated" };
    await buffer.cancel({ ...address, reason: "user asked" });
    await buffer.addTags({ ...address, tags: ["vip"] });
    await buffer.setMetadata({ ...address, metadata: '{"step":1}', expectedVersion: 0 });
    await buffer.setDelay({ ...address, delayUntil: 1_000 });
    expect(
      await buffer.resetIdempotency({
        orgId: "org",
        envId: "env-a",
        taskId: "task",
        idempotencyKey: "key-1",
      }),
    ).toMatchObject({ outcome: "reset" });

    const { entries } = await buffer.lease({ orgId: "org", envId: "env-a", count: 3 });
    expect(entries.map((entry) => [entry.runId, entry.mutations])).toEqual([
      ["plain", { tags: [], metadataVersion: 0, idempotencyReset: false }],
      [
        "mutated",
        {
          canceled: { at: expect.any(Number), reason: "user asked" },
          tags: ["vip"],
          metadata: '{"step":1}',
          metadataVersion: 1,
          delayUntil: 1_000,
          idempotencyReset: false,
        },
      ],
      ["reset", { tags: [], metadataVersion: 0, idempotencyReset: true }],
    ]);
    expect(await buffer.ackMany(entries)).toEqual(entries.map(() => ({ outcome: "acked" })));
    expect(await redis.hkeys(buffer.keys.env("org", "env-a").entries)).toEqual([]);
  });

  test("releases idempotency indexes that still name the run, and only those", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("k1", "env", { options: { idempotencyKey: "key-1" } }));
    await buffer.accept(input("k2", "env", { options: { idempotencyKey: "key-2" } }));
    await buffer.accept(input("plain", "env"));
    await buffer.accept(input("k3", "env", { options: { idempotencyKey: "key-3" } }));
    const [k1, k2, plain, k3] = (await buffer.lease({ orgId: "org", envId: "env", count: 4 })).entries;
    if (!k1 || !k2 || !plain || !k3) throw new Error("nothing leased");
    const index = (key: string) => buffer.keys.idempotency("org", "env", "task", key);
    await redis.set(index("key-2"), "someone-else");

    expect(await buffer.ackMany([k1, k2, plain, { ...k3, leaseToken: "stale" }])).toEqual([
      { outcome: "acked" },
      { outcome: "acked" },
      { outcome: "acked" },
      { outcome: "lease_lost" },
    ]);
    expect(await redis.get(index("key-1"))).toBeNull();
    expect(await redis.get(index("key-2"))).toBe("someone-else");
    // A lost lease changes nothing, so its run keeps its key.
    expect(await redis.get(index("key-3"))).toBe("k3");
    expect(
      await buffer.lookupIdempotency({ orgId: "org", envId: "env", taskId: "task", idempotencyKey: "key-1" }),
    ).toEqual({
      outcome: "not_found",
    });
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(1);
  });

  test("the envs of one shard are acked in one script call (on a single Redis, every shard's), at most 500 entries a call", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    // Six orgs with two envs each, over several shards, and one env deeper than a call holds.
    const envs = Array.from({ length: 12 }, (_, index) => ({
      orgId: `org-${index >> 1}`,
      envId: `env-${index & 1}`,
    }));
    envs.push({ orgId: "deep-org", envId: "env" });
    for (const [position, env] of envs.entries()) {
      const count = env.orgId === "deep-org" ? MAX_ACK_BATCH_GROUP + 100 : 20;
      await buffer.acceptBatch(
        Array.from({ length: count }, (_, item) => ({
          ...input(`r${position}-${item}`, env.envId),
          orgId: env.orgId,
        })),
      );
    }
    const leased: LeasedEntry[] = [];
    for (const env of envs) leased.push(...(await buffer.lease({ ...env, count: 1_000 })).entries);
    // Interleaved across envs, with one entry whose lease is no longer held.
    const batch = [...leased].sort((a, b) => a.runId.localeCompare(b.runId));
    const stale = batch[7];
    if (stale === undefined) throw new Error("nothing leased");
    batch[7] = { ...stale, leaseToken: "stale" };

    const before = await scriptCalls(redis);
    const results = await buffer.ackMany(batch);
    const calls = (await scriptCalls(redis)) - before;

    expect(results).toEqual(batch.map((_, index) => ({ outcome: index === 7 ? "lease_lost" : "acked" })));
    expect(await buffer.stats()).toMatchObject({ depth: 1, leasesInFlight: 1 });
    const shards = new Set(envs.map((env) => buffer.keys.shardOf(env.orgId)));
    const deepShardEntries = batch.filter(
      (entry) => buffer.keys.shardOf(entry.orgId) === buffer.keys.shardOf("deep-org"),
    ).length;
    const expected =
      name === "cluster"
        ? shards.size - 1 + Math.ceil(deepShardEntries / MAX_ACK_BATCH_GROUP)
        : Math.ceil(batch.length / MAX_ACK_BATCH_GROUP);
    expect(calls).toBe(expected);
  });

  test("an empty batch answers nothing; an invalid id throws before anything is acked", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    expect(await buffer.ackMany([])).toEqual([]);
    await buffer.accept(input("a", "env"));
    const [entry] = (await buffer.lease({ orgId: "org", envId: "env", count: 1 })).entries;
    if (!entry) throw new Error("nothing leased");
    await expect(buffer.ackMany([entry, { ...entry, runId: "" }])).rejects.toSatisfy(
      BufferInputError.isInstance,
    );
    expect(await buffer.getEntry({ orgId: "org", envId: "env", runId: "a" })).toMatchObject({
      state: "leased",
    });
  });
});
