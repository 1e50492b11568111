import { holdServer, type RedisClusterProcess, slotOwnerPort, startRedisCluster } from "@mollifier/testing";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SharedRateLimiter } from "./rate-limiter.js";

// A master that holds its commands (CLIENT PAUSE): what a master that died looks like to a
// cluster client until the client gives up on it or a replica takes over.
let cluster: RedisClusterProcess;
let redis: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, requireFullCoverage: false, nodeTimeoutMs: 60_000 });
  redis = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
  redis.on("error", () => {});
  await redis.ping();
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.dispose();
});

const PAUSE_MS = 8_000;

describe("SharedRateLimiter with a master that does not answer", () => {
  test("skips the buckets on that master and keeps granting from the others", async () => {
    const limiter = new SharedRateLimiter({ redis, ratePerSecond: 4_000, burst: 200, random: () => 0 });
    expect(limiter.keys).toHaveLength(16);
    const held = cluster.servers[0];
    if (!held) throw new Error("no first node");
    const heldBuckets = new Set<number>();
    for (const [index, key] of limiter.keys.entries()) {
      if ((await slotOwnerPort(redis, key)) === held.port) heldBuckets.add(index);
    }
    expect(heldBuckets.size).toBeGreaterThan(0);
    // Every bucket answered once, so the client knows every bucket's master.
    for (let call = 0; call < limiter.keys.length; call++) await limiter.acquire(1);

    const pause = await holdServer(held, PAUSE_MS);
    try {
      let granted = 0;
      for (let call = 0; call < 40; call++) {
        const result = await limiter.acquire(1);
        if (result.outcome === "granted") granted += result.count;
      }
      expect(pause.isOver()).toBe(false);
      expect(granted).toBeGreaterThan(0);
    } finally {
      await pause.over;
    }
  }, 30_000);

  test("throws naming the bucket when no bucket can be reached", async () => {
    const limiter = new SharedRateLimiter({ redis, ratePerSecond: 10, prefix: "single-bucket" });
    expect(limiter.keys).toHaveLength(1);
    const port = await slotOwnerPort(redis, limiter.key);
    const held = cluster.servers.find((server) => server.port === port);
    if (!held) throw new Error("no server holds the bucket");
    await limiter.acquire(1);
    const pause = await holdServer(held, 2_000);
    try {
      await expect(limiter.acquire(1)).rejects.toThrow(
        /single-bucket:drainer\}:rate did not answer within 250 ms/,
      );
    } finally {
      await pause.over;
    }
  }, 30_000);
});
