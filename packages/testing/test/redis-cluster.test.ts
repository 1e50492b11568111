import { Cluster } from "ioredis";
import { describe, expect } from "vitest";
import { redisClusterTest, redisTopologies } from "../src/index.js";

const SET_BOTH =
  "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])";

describe("redisClusterTest", () => {
  redisClusterTest("is a real cluster of three masters covering every slot", async ({ redis }) => {
    expect(redis).toBeInstanceOf(Cluster);
    const info = await redis.cluster("INFO");
    expect(info).toContain("cluster_state:ok");
    expect(info).toContain("cluster_slots_assigned:16384");
    expect(redis.nodes("master")).toHaveLength(3);
  });

  redisClusterTest("runs a multi-key script over keys that share one hash tag", async ({ redis }) => {
    const reply = await redis.eval(SET_BOTH, 2, "{org-1}:a", "{org-1}:b", "v");
    expect(reply).toEqual(["v", "v"]);
  });

  redisClusterTest(
    "refuses the same script over keys in different slots with CROSSSLOT",
    async ({ redis }) => {
      // "a" and "b" hash to slots on different masters of a three-master cluster.
      await expect(redis.eval(SET_BOTH, 2, "a", "b", "v")).rejects.toThrow(/CROSSSLOT/);
    },
  );
});

describe.each(redisTopologies)("redisTopologies: $name", ({ test }) => {
  test("gives an empty, working Redis to every test", async ({ redis }) => {
    expect(await redis.get("{t}:k")).toBeNull();
    await redis.set("{t}:k", "v");
    expect(await redis.get("{t}:k")).toBe("v");
  });

  test("flushes what the previous test wrote", async ({ redis }) => {
    expect(await redis.get("{t}:k")).toBeNull();
  });
});
