import { setTimeout as sleep } from "node:timers/promises";
import {
  holdServer,
  type RedisClusterProcess,
  slotOwnerPort,
  startRedisCluster,
  startRedisServer,
} from "@mollifier/testing";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { ShardReadTimeoutError } from "./enumerate.js";
import { BufferKeys } from "./keys.js";

// A master that holds its commands without answering (the seconds before a dead master's
// connection is given up on, or before its replica takes over), made with CLIENT PAUSE.
let cluster: RedisClusterProcess;
let redis: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, requireFullCoverage: false, nodeTimeoutMs: 60_000 });
  redis = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
  redis.on("error", () => {});
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.dispose();
});

const PAUSE_MS = 8_000;

describe("a master that does not answer", () => {
  test("the active set answers the other shards without waiting for it, and names its shards", async () => {
    const buffer = new MollifierBuffer({ redis, shardCount: 16 });
    const keys = new BufferKeys({ shardCount: 16 });
    const orgs = Array.from({ length: 32 }, (_, index) => `org-${index}`);
    for (const orgId of orgs) {
      await buffer.accept({
        runId: `run-${orgId}`,
        orgId,
        envId: "env",
        taskId: "task",
        payload: {},
        options: {},
      });
    }
    const held = cluster.servers[1];
    if (!held) throw new Error("no second node");
    const heldShards: number[] = [];
    for (const shard of keys.shards()) {
      if ((await slotOwnerPort(redis, keys.shard(shard).tag)) === held.port) heldShards.push(shard);
    }
    expect(heldShards.length).toBeGreaterThan(0);

    const pause = await holdServer(held, PAUSE_MS);
    try {
      const first = await buffer.activeSet();
      // A second round while the first read of the held shards is still unanswered.
      const second = await buffer.activeSet();
      expect(pause.isOver()).toBe(false);
      const healthy = orgs.filter((orgId) => !heldShards.includes(keys.shardOf(orgId))).sort();
      for (const active of [first, second]) {
        expect([...active.keys()].sort()).toEqual(healthy);
        expect(active.unavailableShards.map((failure) => failure.shard).sort((a, b) => a - b)).toEqual(
          heldShards,
        );
        expect(active.unavailableShards[0]?.error.cause).toBeInstanceOf(ShardReadTimeoutError);
      }
    } finally {
      await pause.over;
    }
    // Once the master answers again (and the held reads are answered) its shards are back.
    let size = 0;
    for (let round = 0; round < 50 && size !== orgs.length; round++) {
      size = (await buffer.activeSet()).size;
      if (size !== orgs.length) await sleep(100);
    }
    expect(size).toBe(orgs.length);
  }, 30_000);

  test("acks are grouped by shard on a cluster and in one group on a single Redis", async () => {
    const keys = new BufferKeys({ shardCount: 16 });
    const onCluster = new MollifierBuffer({ redis, shardCount: 16 });
    expect(onCluster.ackGroup({ orgId: "org-3" })).toBe(keys.shardOf("org-3"));
    const server = await startRedisServer();
    const single = new Redis(server.port, server.host);
    try {
      const standalone = new MollifierBuffer({ redis: single, shardCount: 16 });
      expect(new Set(["org-1", "org-2", "org-3"].map((orgId) => standalone.ackGroup({ orgId })))).toEqual(
        new Set([0]),
      );
    } finally {
      single.disconnect();
      await server.dispose();
    }
  });
});
