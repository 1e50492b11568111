import { type RedisClusterProcess, startRedisCluster } from "@mollifier/testing";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferKeys } from "./keys.js";
import type { AcceptInput } from "./snapshot.js";

// A cluster of its own: one test moves a slot, the last one kills a master.
// `cluster-require-full-coverage no` keeps the healthy masters serving while one is down.
let cluster: RedisClusterProcess;
let redis: Cluster;
const admins: Redis[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, requireFullCoverage: false, nodeTimeoutMs: 60_000 });
  redis = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    {
      // Fail a command to the dead master at once instead of retrying it for seconds.
      redisOptions: { maxRetriesPerRequest: 0 },
      clusterRetryStrategy: () => 100,
      // The slot map changes only when a reply says so (MOVED), never on a timer mid-test.
      slotsRefreshInterval: 0,
    },
  );
  redis.on("error", () => {});
  for (const { host, port } of cluster.nodes) {
    const admin = new Redis(port, host, { maxRetriesPerRequest: 0 });
    admin.on("error", () => {});
    admins.push(admin);
  }
});
afterAll(async () => {
  redis?.disconnect();
  for (const admin of admins) admin.disconnect();
  await cluster?.dispose();
});

const SHARD_COUNT = 16;
const keys = new BufferKeys({ shardCount: SHARD_COUNT });

function input(runId: string, orgId: string): AcceptInput {
  return { runId, orgId, envId: "env", taskId: "task", payload: { runId }, options: {} };
}

function admin(index: number): Redis {
  const found = admins[index];
  if (!found) throw new Error(`no node ${index}`);
  return found;
}

async function movedErrors(node: Redis): Promise<number> {
  const info = await node.info("errorstats");
  return Number(/errorstat_MOVED:count=(\d+)/.exec(info)?.[1] ?? 0);
}

function address(index: number): string {
  const node = cluster.nodes[index];
  if (!node) throw new Error(`no node ${index}`);
  return `${node.host}:${node.port}`;
}

async function slotOf(orgId: string): Promise<number> {
  return Number(await redis.cluster("KEYSLOT", keys.shard(keys.shardOf(orgId)).tag));
}

/** The index (in `cluster.nodes`) of the master that serves `slot`. */
async function ownerOf(slot: number): Promise<number> {
  const ranges = await admin(0).cluster("SLOTS");
  const owner = ranges.find(([start, end]) => slot >= start && slot <= end);
  const port = owner?.[2]?.[1];
  const index = cluster.nodes.findIndex((node) => node.port === port);
  if (index < 0) throw new Error(`no owner for slot ${slot}`);
  return index;
}

/** Moves `slot` and its keys to another master, as `redis-cli --cluster reshard` does. */
async function moveSlot(slot: number, from: number, to: number): Promise<void> {
  const source = admin(from);
  const target = admin(to);
  const sourceId = String(await source.cluster("MYID"));
  const targetId = String(await target.cluster("MYID"));
  const targetNode = cluster.nodes[to];
  if (!targetNode) throw new Error(`no node ${to}`);
  await target.cluster("SETSLOT", slot, "IMPORTING", sourceId);
  await source.cluster("SETSLOT", slot, "MIGRATING", targetId);
  for (;;) {
    const slotKeys = (await source.cluster("GETKEYSINSLOT", slot, 100)) as string[];
    if (slotKeys.length === 0) break;
    await source.migrate(targetNode.host, targetNode.port, "", 0, 5_000, "KEYS", ...slotKeys);
  }
  await target.cluster("SETSLOT", slot, "NODE", targetId);
  await source.cluster("SETSLOT", slot, "NODE", targetId);
  for (const other of admins) {
    if (other !== source && other !== target) await other.cluster("SETSLOT", slot, "NODE", targetId);
  }
}

/** Orgs spread so every master serves at least one of them. */
function orgsOnEveryShard(): string[] {
  const orgs = new Map<number, string>();
  for (let index = 0; orgs.size < SHARD_COUNT; index++) {
    const orgId = `org-${index}`;
    if (!orgs.has(keys.shardOf(orgId))) orgs.set(keys.shardOf(orgId), orgId);
  }
  return [...orgs.values()];
}

describe("write coalescing per node on a cluster", () => {
  test("a turn's accepts to a slot that moved to another master are redirected (MOVED), all answer, in order", async () => {
    const buffer = new MollifierBuffer({ redis, shardCount: SHARD_COUNT });
    const orgs = orgsOnEveryShard();
    // The client learns the slot map and opens a connection to every master.
    for (const orgId of orgs)
      expect((await buffer.accept(input(`first-${orgId}`, orgId))).outcome).toBe("accepted");
    const moved = orgs[0] as string;
    const slot = await slotOf(moved);
    const from = await ownerOf(slot);
    const to = (from + 1) % cluster.nodes.length;
    await moveSlot(slot, from, to);
    expect(await ownerOf(slot)).toBe(to);
    expect(redis.slots[slot]?.[0]).toBe(address(from));
    const movedBefore = await movedErrors(admin(from));

    // The client still maps the slot to the old master: this turn's calls to it are corked there
    // together, answered MOVED one by one, and sent again to the new owner.
    const pending = orgs.flatMap((orgId) =>
      Array.from({ length: 5 }, (_, index) => buffer.accept(input(`run-${orgId}-${index}`, orgId))),
    );
    const results = await Promise.all(pending);
    expect(results.map((result) => result.outcome)).toEqual(pending.map(() => "accepted"));
    for (const orgId of orgs) {
      const listed = await buffer.listEntries({ orgId, envId: "env", limit: 100 });
      expect(listed.entries.map((entry) => entry.runId)).toEqual([
        `first-${orgId}`,
        ...Array.from({ length: 5 }, (_, index) => `run-${orgId}-${index}`),
      ]);
    }
    expect((await movedErrors(admin(from))) - movedBefore).toBeGreaterThanOrEqual(5);
    expect(redis.slots[slot]?.[0]).toBe(address(to));
    expect(Number(await admin(to).cluster("COUNTKEYSINSLOT", slot))).toBeGreaterThan(0);
    expect(Number(await admin(from).cluster("COUNTKEYSINSLOT", slot))).toBe(0);
  });

  test("a cluster client with enableAutoPipelining accepts and lists, its scripts placed by their keys", async () => {
    const piped = redis.duplicate(undefined, { enableAutoPipelining: true });
    piped.on("error", () => {});
    try {
      const buffer = new MollifierBuffer({ redis: piped, shardCount: SHARD_COUNT });
      const orgs = orgsOnEveryShard();
      const results = await Promise.all(orgs.map((orgId) => buffer.accept(input(`piped-${orgId}`, orgId))));
      expect(results.map((result) => result.outcome)).toEqual(orgs.map(() => "accepted"));
      for (const orgId of orgs) {
        const listed = await buffer.listEntries({ orgId, envId: "env", limit: 100 });
        expect(listed.entries.map((entry) => entry.runId)).toContain(`piped-${orgId}`);
      }
    } finally {
      piped.disconnect();
    }
  });

  test("a turn's accepts to a master that died fail one by one, and the other masters' accepts of that turn answer", async () => {
    const buffer = new MollifierBuffer({ redis, shardCount: SHARD_COUNT });
    const orgs = orgsOnEveryShard();
    const owners = new Map<string, number>();
    for (const orgId of orgs) owners.set(orgId, await ownerOf(await slotOf(orgId)));
    const dead = owners.get(orgs[0] as string) as number;
    const deadServer = cluster.servers[dead];
    if (!deadServer) throw new Error(`no server ${dead}`);
    // Every master's connection is open and ready before the crash, so the dead one is corked too.
    for (const orgId of orgs)
      expect((await buffer.accept(input(`before-${orgId}`, orgId))).outcome).toBe("accepted");
    await deadServer.kill();

    const calls = orgs.flatMap((orgId) =>
      Array.from({ length: 3 }, (_, index) => ({
        orgId,
        result: buffer.accept(input(`after-${orgId}-${index}`, orgId)),
      })),
    );
    const healthy = calls.filter((call) => owners.get(call.orgId) !== dead);
    const lost = calls.filter((call) => owners.get(call.orgId) === dead);
    expect(healthy.length).toBeGreaterThan(0);
    expect(lost.length).toBeGreaterThan(0);
    // The healthy masters' calls answer on their own; none waits for the dead master's.
    const answered = await Promise.all(healthy.map((call) => call.result));
    expect(answered.map((result) => result.outcome)).toEqual(healthy.map(() => "accepted"));
    const failed = await Promise.allSettled(lost.map((call) => call.result));
    expect(failed.map((settled) => settled.status)).toEqual(lost.map(() => "rejected"));
    for (const orgId of orgs.filter((org) => owners.get(org) !== dead)) {
      const listed = await buffer.listEntries({ orgId, envId: "env", limit: 100 });
      expect(listed.entries.map((entry) => entry.runId).slice(-3)).toEqual(
        Array.from({ length: 3 }, (_, index) => `after-${orgId}-${index}`),
      );
    }
  });
});
