import { type RedisClusterProcess, slotOwnerPort, startRedisCluster } from "@mollifier/testing";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferKeys } from "./keys.js";

// A real cluster whose healthy masters keep serving while one is down
// (`cluster-require-full-coverage no`), which is what the window before a
// replica is promoted looks like to the shards on the other masters.
let cluster: RedisClusterProcess;
let redis: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, requireFullCoverage: false, nodeTimeoutMs: 60_000 });
  redis = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    {
      // Fail a command to the dead master at once instead of retrying it for seconds.
      redisOptions: { maxRetriesPerRequest: 0 },
      clusterRetryStrategy: () => 100,
    },
  );
  redis.on("error", () => {});
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.dispose();
});

describe("one master down on a cluster", () => {
  test("stops only its own shards: enumeration and sweeps answer the others and name the missing shards", async () => {
    const buffer = new MollifierBuffer({ redis, shardCount: 16 });
    const keys = new BufferKeys({ shardCount: 16 });
    const orgs = Array.from({ length: 48 }, (_, index) => `org-${index}`);
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
    expect((await buffer.activeSet()).size).toBe(orgs.length);

    const downServer = cluster.servers[2];
    if (!downServer) throw new Error("no third node");
    const downShards: number[] = [];
    for (const shard of keys.shards()) {
      if ((await slotOwnerPort(redis, keys.shard(shard).tag)) === downServer.port) downShards.push(shard);
    }
    expect(downShards.length).toBeGreaterThan(0);
    await downServer.stop();

    const active = await buffer.activeSet();
    const healthyOrgs = orgs.filter((orgId) => !downShards.includes(keys.shardOf(orgId)));
    expect([...active.keys()].sort()).toEqual(healthyOrgs.sort());
    expect(active.unavailableShards.map((failure) => failure.shard).sort((a, b) => a - b)).toEqual(
      downShards,
    );
    expect(active.unavailableShards[0]?.error.message).toMatch(
      /^reading the active orgs failed on shard \d+ \(\{mollifier:\d+:\d+\}\)/,
    );

    const reap = await buffer.reapExpiredLeases();
    expect(reap.unavailableShards.map((failure) => failure.shard).sort((a, b) => a - b)).toEqual(downShards);
    const promote = await buffer.promoteDueRetries();
    expect(promote.unavailableShards.map((failure) => failure.shard).sort((a, b) => a - b)).toEqual(
      downShards,
    );

    // An org on a healthy master still leases.
    const healthy = healthyOrgs[0] as string;
    const { entries } = await buffer.lease({ orgId: healthy, envId: "env", count: 1 });
    expect(entries.map((entry) => entry.runId)).toEqual([`run-${healthy}`]);
  });
});
