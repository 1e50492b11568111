import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferError } from "./errors.js";
import type { RedisClient } from "./lua-script.js";
import type { AcceptInput } from "./snapshot.js";

function input(runId: string, orgId = "org", envId = "env"): AcceptInput {
  return { runId, orgId, envId, taskId: "task", payload: { n: runId }, options: {} };
}

function masters(redis: RedisClient) {
  return "nodes" in redis ? redis.nodes("master") : [redis];
}

describe.each(redisTopologies)("enumeration and reads on $name", ({ test }) => {
  test("enumerates shards, the active orgs of a shard and the active envs of an org", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, shardCount: 4 });
    expect(buffer.shards()).toEqual([0, 1, 2, 3]);
    await buffer.accept(input("1", "org-a", "e1"));
    await buffer.accept(input("2", "org-a", "e2"));
    await buffer.accept(input("3", "org-b", "e1"));
    const listed = (await Promise.all(buffer.shards().map((shard) => buffer.activeOrgs(shard))))
      .flat()
      .sort();
    expect(listed).toEqual(["org-a", "org-b"]);
    expect(await buffer.activeOrgs(buffer.keys.shardOf("org-a"))).toContain("org-a");
    expect(await buffer.activeEnvs("org-a")).toEqual(["e1", "e2"]);
    expect(await buffer.activeEnvs("org-c")).toEqual([]);
    // The whole active set in one read, as the per-shard and per-org calls list it.
    const active = await buffer.activeSet();
    expect([...active.keys()].sort()).toEqual(["org-a", "org-b"]);
    expect(active.get("org-a")).toEqual(["e1", "e2"]);
    expect(active.get("org-b")).toEqual(["e1"]);
    await buffer.lease({ orgId: "org-b", envId: "e1", count: 1 });
    expect([...(await buffer.activeSet())]).toEqual([["org-a", ["e1", "e2"]]]);
  });

  test("an empty buffer has an empty active set", async ({ redis }) => {
    expect((await new MollifierBuffer({ redis }).activeSet()).size).toBe(0);
  });

  test("depth counts entries in any state per env, org and shard", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, shardCount: 2 });
    await buffer.acceptBatch([input("1"), input("2"), input("3", "org", "other"), input("4", "org-z")]);
    await buffer.lease({ orgId: "org", envId: "env", count: 1 });
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(2);
    expect(await buffer.depth({ orgId: "org" })).toBe(3);
    expect(await buffer.depth({ orgId: "nobody" })).toBe(0);
    const shardDepths = await Promise.all(buffer.shards().map((shard) => buffer.depth({ shard })));
    expect(shardDepths.reduce((sum, value) => sum + value, 0)).toBe(4);
    expect(await buffer.stats()).toMatchObject({ depth: 4, leasesInFlight: 1 });
  });

  test("getEntry answers state, attempts, mutations and position; undefined for an unknown run", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.acceptBatch([input("a"), input("b"), input("c")]);
    const {
      entries: [leased],
    } = await buffer.lease({ orgId: "org", envId: "env", count: 1 });
    // A leased entry shows when its lease runs out, as the lease set holds it.
    expect(await buffer.getEntry({ orgId: "org", envId: "env", runId: "a" })).toMatchObject({
      state: "leased",
      attempts: 0,
      leaseDeadline: leased?.leaseDeadline,
    });
    const c = await buffer.getEntry({ orgId: "org", envId: "env", runId: "c" });
    expect(c).toMatchObject({ state: "queued", position: 1, mutations: { tags: [], metadataVersion: 0 } });
    expect(c?.leaseDeadline).toBeUndefined();
    expect(await buffer.position({ orgId: "org", envId: "env", runId: "c" })).toBe(1);
    expect(await buffer.position({ orgId: "org", envId: "env", runId: "a" })).toBeUndefined();
    expect(await buffer.getEntry({ orgId: "org", envId: "env", runId: "zzz" })).toBeUndefined();
    // Another tenant's ids never reach this entry.
    expect(await buffer.getEntry({ orgId: "org2", envId: "env", runId: "c" })).toBeUndefined();
  });

  test("listEntries pages through an env's queue oldest first with a cursor", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const ids = Array.from({ length: 7 }, (_, index) => `run-${index}`);
    await buffer.acceptBatch(ids.map((id) => input(id)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await buffer.listEntries({ orgId: "org", envId: "env", limit: 3, cursor });
      seen.push(...page.entries.map((entry) => entry.runId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    await expect(buffer.listEntries({ orgId: "org", envId: "env", cursor: "x" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });

  test("oldestEntryAgeMs measures the head of the queue against Redis TIME", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    expect(await buffer.oldestEntryAgeMs({ orgId: "org", envId: "env" })).toBeUndefined();
    await buffer.accept(input("a"));
    const entries = buffer.keys.env("org", "env").entries;
    const [acceptedAt, snapshot] = (await redis.hget(entries, "a"))?.split(/\|(.*)/s) ?? [];
    await redis.hset(entries, "a", `${Number(acceptedAt) - 5_000}|${snapshot}`);
    const age = await buffer.oldestEntryAgeMs({ orgId: "org", envId: "env" });
    expect(age).toBeGreaterThanOrEqual(5_000);
    expect(age).toBeLessThan(60_000);
    expect((await buffer.stats()).oldestEntryAgeMs).toBeGreaterThanOrEqual(5_000);
  });

  test("invalid ids or shards in reads and leases throw BufferInputError before any Redis call", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, shardCount: 2 });
    const calls: Array<() => Promise<unknown>> = [
      () => buffer.lease({ orgId: "", envId: "env", count: 1 }),
      () => buffer.getEntry({ orgId: "org", envId: "env", runId: "" }),
      () => buffer.getFailed({ orgId: "org", envId: "", runId: "r" }),
      () => buffer.listEntries({ orgId: "o".repeat(600), envId: "env" }),
      () => buffer.depth({ shard: 5 }),
      () => buffer.depth({ orgId: "" }),
      () => buffer.activeOrgs(-1),
      () => buffer.activeEnvs(""),
      () => buffer.position({ orgId: "org", envId: "env", runId: "" }),
    ];
    for (const call of calls) {
      const error = await call().catch((caught: unknown) => caught);
      expect(BufferError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: "INVALID_INPUT" });
    }
  });

  test("checkRedisConfiguration accepts noeviction, warns or refuses otherwise", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const nodes = masters(redis);
    await Promise.all(nodes.map((node) => node.config("SET", "maxmemory-policy", "noeviction")));
    expect(await buffer.checkRedisConfiguration()).toEqual({ outcome: "ok" });
    const last = nodes[nodes.length - 1];
    if (!last) throw new Error("no node");
    await last.config("SET", "maxmemory-policy", "allkeys-lru");
    try {
      expect(await buffer.checkRedisConfiguration({ onEvictionPolicy: "warn" })).toMatchObject({
        outcome: "warned",
        policy: "allkeys-lru",
      });
      const error = await buffer
        .checkRedisConfiguration({ onEvictionPolicy: "refuse" })
        .catch((caught) => caught);
      expect(BufferError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: "EVICTION_POLICY" });
    } finally {
      await last.config("SET", "maxmemory-policy", "noeviction");
    }
  });
});
