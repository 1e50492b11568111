import type { Cluster, Redis, RedisOptions } from "ioredis";
import { type TestAPI, test } from "vitest";
import {
  type AcquiredEndpoint,
  acquireClusterEndpoint,
  acquireRedisEndpoint,
  type RedisClient,
  type RedisEndpoint,
} from "./redis-endpoint.js";

/** The fixtures both `redisTest` and `redisClusterTest` provide. */
export interface RedisFixtures<Client extends RedisClient = RedisClient> {
  /** The file's Redis; flushed before each test that uses `redis`. */
  redisEndpoint: RedisEndpoint;
  /** A connected client, on an empty Redis; closed after the test. */
  redis: Client;
  /** Opens extra clients (other "processes"); all are closed after the test. */
  createRedisClient: (options?: RedisOptions) => Client;
}

function clientFixtures<Client extends RedisClient>() {
  return {
    createRedisClient: async (
      { redisEndpoint }: { redisEndpoint: RedisEndpoint },
      use: (factory: (options?: RedisOptions) => Client) => Promise<void>,
    ) => {
      const opened: RedisClient[] = [];
      await use((options?: RedisOptions) => {
        const client = redisEndpoint.createClient(options);
        opened.push(client);
        return client as Client;
      });
      for (const client of opened) client.disconnect();
    },
    redis: async (
      { redisEndpoint }: { redisEndpoint: RedisEndpoint },
      use: (client: Client) => Promise<void>,
    ) => {
      await redisEndpoint.flush();
      const client = redisEndpoint.createClient();
      try {
        await use(client as Client);
      } finally {
        client.disconnect();
      }
    },
  };
}

// Each topology keeps its file-scoped server under its own fixture name:
// vitest caches file-scoped fixtures by name, so a file that uses both
// topologies must not share one name between them.
function fileScoped(acquire: () => Promise<AcquiredEndpoint>) {
  return [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixture's dependencies from this pattern
    async ({}, use: (endpoint: RedisEndpoint) => Promise<void>) => {
      const acquired = await acquire();
      try {
        await use(acquired.endpoint);
      } finally {
        await acquired.release();
      }
    },
    { scope: "file" as const },
  ] satisfies [unknown, { scope: "file" }];
}

const standaloneTest = test.extend<RedisFixtures<Redis> & { standaloneRedisEndpoint: RedisEndpoint }>({
  standaloneRedisEndpoint: fileScoped(acquireRedisEndpoint),
  redisEndpoint: async ({ standaloneRedisEndpoint }, use) => use(standaloneRedisEndpoint),
  ...clientFixtures<Redis>(),
});

const clusterTest = test.extend<RedisFixtures<Cluster> & { clusterRedisEndpoint: RedisEndpoint }>({
  clusterRedisEndpoint: fileScoped(acquireClusterEndpoint),
  redisEndpoint: async ({ clusterRedisEndpoint }, use) => use(clusterRedisEndpoint),
  ...clientFixtures<Cluster>(),
});

/**
 * A vitest `test` with an isolated Redis for the test file: a spawned
 * `redis-server` on a free port, else `@testcontainers/redis` when a Docker
 * engine answers, else `REDIS_URL` (which also wins when set). Each test starts
 * on an empty database; teardown stops only servers the kit started.
 *
 * @example
 * redisTest("stores a key", async ({ redis }) => {
 *   await redis.set("k", "v");
 *   expect(await redis.get("k")).toBe("v");
 * });
 */
export const redisTest: TestAPI<RedisFixtures<Redis>> = standaloneTest;

/**
 * A vitest `test` with a real Redis Cluster of three masters for the test file,
 * started from `redis-server --cluster-enabled yes` and joined with
 * `redis-cli --cluster create`; `redis` is an ioredis `Cluster`.
 */
export const redisClusterTest: TestAPI<RedisFixtures<Cluster>> = clusterTest;

/**
 * Both topologies, for suites that must pass on each:
 *
 * @example
 * describe.each(redisTopologies)("accept on $name", ({ test }) => {
 *   test("accepts once", async ({ redis }) => { ... });
 * });
 */
export const redisTopologies: ReadonlyArray<{
  readonly name: "standalone" | "cluster";
  readonly test: TestAPI<RedisFixtures<RedisClient>>;
}> = [
  { name: "standalone", test: redisTest as unknown as TestAPI<RedisFixtures<RedisClient>> },
  { name: "cluster", test: redisClusterTest as unknown as TestAPI<RedisFixtures<RedisClient>> },
];
