import { redisClusterTest } from "@mollifier/testing";
import { Cluster } from "ioredis";
import { expect, test } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferError } from "./errors.js";

redisClusterTest(
  "on a cluster client that is still connecting, the check waits for the cluster and checks every node",
  async ({ redis, redisEndpoint }) => {
    const nodes = redis.nodes("master");
    const last = nodes[nodes.length - 1];
    if (!last) throw new Error("no node");
    await last.config("SET", "maxmemory-policy", "volatile-lru");
    const seed = new URL(redisEndpoint.url);
    const connecting = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { lazyConnect: true });
    try {
      const check = await new MollifierBuffer({ redis: connecting }).checkRedisConfiguration();
      expect(check).toEqual({
        outcome: "warned",
        policy: "volatile-lru",
        node: `${last.options.host}:${last.options.port}`,
      });
    } finally {
      connecting.disconnect();
      await last.config("SET", "maxmemory-policy", "noeviction");
    }
  },
);

test("a cluster that never becomes ready is refused with CLUSTER_NOT_READY, not answered ok", async () => {
  // Nothing listens on port 1: the client can never read a slot map.
  const unreachable = new Cluster([{ host: "127.0.0.1", port: 1 }], {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
  });
  try {
    const error = await new MollifierBuffer({ redis: unreachable })
      .checkRedisConfiguration({ clusterReadyTimeoutMs: 300 })
      .catch((caught: unknown) => caught);
    expect(BufferError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "CLUSTER_NOT_READY" });
  } finally {
    unreachable.disconnect();
  }
});
