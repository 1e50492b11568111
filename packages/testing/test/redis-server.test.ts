import { expect } from "vitest";
import { redisTest } from "../src/index.js";

redisTest(
  "a spawned server can be stopped and started again on the same port",
  async ({ redisEndpoint, createRedisClient }) => {
    expect(redisEndpoint.source).toBe("redis-server");
    const client = createRedisClient({ maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on("error", () => {}); // refused connections while the server is down are expected
    await client.set("k", "v");
    await redisEndpoint.stop();
    await expect(client.get("k")).rejects.toThrow();
    await redisEndpoint.start();
    await expect.poll(() => client.ping().catch(() => "down"), { timeout: 10_000 }).toBe("PONG");
    // A restarted server is empty: nothing persisted.
    expect(await client.get("k")).toBeNull();
  },
);

redisTest("servers run with maxmemory-policy noeviction", async ({ redis }) => {
  expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
});
