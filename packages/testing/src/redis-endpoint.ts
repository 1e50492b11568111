import { spawnSync } from "node:child_process";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { startRedisCluster } from "./redis-cluster.js";
import {
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  startRedisServer,
} from "./redis-server.js";

/** Any client the packages accept: a single Redis or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where a test file's Redis comes from. */
export type RedisSource = "redis-server" | "testcontainers" | "REDIS_URL" | "cluster";

/**
 * One isolated Redis (or cluster) for a test file. Standalone servers the kit
 * spawned can be stopped and started again to test outages.
 */
export interface RedisEndpoint {
  readonly topology: "standalone" | "cluster";
  readonly source: RedisSource;
  /** `redis://host:port` of the server, or of the first cluster node. */
  readonly url: string;
  /** Opens a new client to this endpoint; the caller closes it. */
  createClient(options?: RedisOptions): RedisClient;
  /** Empties the endpoint's database (every master of a cluster). */
  flush(): Promise<void>;
  /**
   * Stops the server. Only for servers the kit spawned itself; throws for
   * `REDIS_URL`, containers and clusters, which it never stops mid-file.
   */
  stop(): Promise<void>;
  /** Starts a server stopped with {@link stop} again, on the same port, empty. */
  start(): Promise<void>;
}

/** An endpoint and the function that gives it back (stops what the kit started). */
export interface AcquiredEndpoint {
  endpoint: RedisEndpoint;
  release(): Promise<void>;
}

const CLIENT_DEFAULTS: RedisOptions = { maxRetriesPerRequest: 3 };

function dockerEngineAnswers(): boolean {
  const probe = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    stdio: "ignore",
    timeout: 5_000,
  });
  return probe.error === undefined && probe.status === 0;
}

function notOwned(source: RedisSource): () => Promise<never> {
  return async () => {
    throw new Error(`a ${source} Redis is not owned by the test kit; it cannot be stopped or started`);
  };
}

function standaloneEndpoint(
  source: RedisSource,
  url: string,
  database: number,
  server?: RedisServerProcess,
): RedisEndpoint {
  const createClient = (options?: RedisOptions): Redis =>
    new Redis(url, { ...CLIENT_DEFAULTS, db: database, ...options });
  return {
    topology: "standalone",
    source,
    url,
    createClient,
    async flush() {
      const admin = createClient();
      try {
        await admin.flushdb();
      } finally {
        admin.disconnect();
      }
    },
    stop: server ? () => server.stop() : notOwned(source),
    start: server ? () => server.start() : notOwned(source),
  };
}

/**
 * Finds a standalone Redis for one test file: `REDIS_URL` when set, else a
 * spawned `redis-server`, else `@testcontainers/redis` when a Docker engine
 * answers; rejects at once with {@link noRedisMessage} when none is possible.
 */
export async function acquireRedisEndpoint(): Promise<AcquiredEndpoint> {
  const override = process.env.REDIS_URL;
  if (override !== undefined && override !== "") {
    // A shared server: each vitest worker gets its own database index so two
    // files running at once never share keys. The kit only flushes that index.
    const poolId = Number(process.env.VITEST_POOL_ID ?? "1");
    const database = 1 + (Number.isFinite(poolId) ? poolId % 15 : 0);
    return { endpoint: standaloneEndpoint("REDIS_URL", override, database), release: async () => {} };
  }
  if (hasRedisServerBinary()) {
    const server = await startRedisServer();
    return {
      endpoint: standaloneEndpoint("redis-server", server.url, 0, server),
      release: () => server.dispose(),
    };
  }
  if (dockerEngineAnswers()) {
    const { RedisContainer } = await import("@testcontainers/redis");
    const container = await new RedisContainer("redis:7-alpine")
      .withCommand(["redis-server", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"])
      .start();
    return {
      endpoint: standaloneEndpoint("testcontainers", container.getConnectionUrl(), 0),
      release: async () => {
        await container.stop();
      },
    };
  }
  throw new Error(noRedisMessage("no redis-server binary, no Docker engine and no REDIS_URL"));
}

/** Starts a three-master Redis Cluster for one test file. */
export async function acquireClusterEndpoint(): Promise<AcquiredEndpoint> {
  const cluster = await startRedisCluster();
  const first = cluster.nodes[0];
  if (first === undefined) throw new Error("the Redis Cluster started without nodes");
  const endpoint: RedisEndpoint = {
    topology: "cluster",
    source: "cluster",
    url: `redis://${first.host}:${first.port}`,
    createClient: (options) =>
      new Cluster(
        cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
        { redisOptions: { ...CLIENT_DEFAULTS, ...options }, slotsRefreshTimeout: 5_000 },
      ),
    async flush() {
      await Promise.all(
        cluster.nodes.map(async (node) => {
          const admin = new Redis(node.port, node.host, CLIENT_DEFAULTS);
          try {
            await admin.flushall();
          } finally {
            admin.disconnect();
          }
        }),
      );
    },
    stop: notOwned("cluster"),
    start: notOwned("cluster"),
  };
  return { endpoint, release: () => cluster.dispose() };
}
