import {
  freePort,
  type PostgresServerProcess,
  type RedisClusterProcess,
  type RedisServerProcess,
  startPostgresServer,
  startRedisCluster,
  startRedisServer,
} from "@mollifier/testing/servers";
import { Cluster, Redis } from "ioredis";
import pg from "pg";
import { type AppProcess, appProcess } from "./app-process.js";

/** Settings of the stack under test, as the demo reads them from its environment. */
export interface StackOptions {
  /** Triggers per trip window an env may send before the gate diverts it. @default 20 */
  readonly tripThreshold?: number;
  /** Runs the drainers write per second, together. @default 400 */
  readonly drainRatePerSecond?: number;
  /** Drainer processes beside the app. @default 2 */
  readonly drainers?: number;
  /**
   * A Redis Cluster of three masters, each with a replica (promoted when its master dies),
   * instead of a single Redis with an append-only file.
   * @default false
   */
  readonly cluster?: boolean;
}

// The observer never waits on a dead node for longer than this; its reads are retried by the caller.
const OBSERVER_COMMAND_TIMEOUT_MS = 5_000;

/** The demo's key prefix (apps/demo-webapp/app/services.server.ts). */
export const DEMO_KEY_PREFIX = "mollifier-demo";

/**
 * The whole system as a user runs it, as real processes: a Redis with an
 * append-only file, a PostgreSQL server, the demo app (`MOLLIFIER_DRAINER=separate`)
 * and separate drainers, all on loopback. Each piece can be killed and started
 * again; {@link Stack.dispose} stops everything.
 */
export interface Stack {
  readonly baseUrl: string;
  /** The single Redis, unless the stack runs on a cluster. */
  readonly redis: RedisServerProcess | undefined;
  /** The Redis Cluster, when `cluster` was asked for. */
  readonly cluster: RedisClusterProcess | undefined;
  readonly postgres: PostgresServerProcess;
  readonly databaseUrl: string;
  readonly app: AppProcess;
  readonly drainers: readonly AppProcess[];
  /** A client on the stack's Redis for observing it (command counts, depth). */
  readonly observer: Redis | Cluster;
  /** Entries buffered, all shards together. */
  bufferDepth(): Promise<number>;
  /** Ends every open connection to the database, as a failover or restart does. */
  terminateDatabaseConnections(): Promise<number>;
  /** Every unexpected exit of any process. */
  crashes(): string[];
  dispose(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cluster = options.cluster
    ? await startRedisCluster({
        masters: 3,
        replicasPerMaster: 1,
        nodeTimeoutMs: 2_000,
        requireFullCoverage: false,
      })
    : undefined;
  const redis =
    cluster === undefined
      ? await startRedisServer({
          // An append-only file fsynced on every write: a restart keeps every acknowledged entry.
          extraArgs: ["--appendonly", "yes", "--appendfsync", "always"],
        })
      : undefined;
  const postgres = await startPostgresServer();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query("CREATE DATABASE chaos");
  await admin.end();
  const databaseUrl = postgres.url.replace(/\/postgres$/, "/chaos");
  const port = await freePort();
  const environment: Record<string, string> = {
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...(cluster
      ? { REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(",") }
      : {}),
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    MOLLIFIER_MODE: "mollify",
    MOLLIFIER_DRAINER: "separate",
    MOLLIFIER_TRIP_THRESHOLD: String(options.tripThreshold ?? 20),
    MOLLIFIER_DRAIN_RATE: String(options.drainRatePerSecond ?? 400),
    MOLLIFIER_DB_WRITE_LATENCY_MS: "0",
    MOLLIFIER_DB_MAX_WRITES: "8",
  };
  const app = appProcess("app", "app", environment);
  const drainers = Array.from({ length: options.drainers ?? 2 }, (_, index) =>
    appProcess("drainer", `drainer-${index + 1}`, environment),
  );
  const observer: Redis | Cluster = cluster
    ? new Cluster([...cluster.nodes], {
        lazyConnect: true,
        redisOptions: { maxRetriesPerRequest: 1, commandTimeout: OBSERVER_COMMAND_TIMEOUT_MS },
      })
    : new Redis(redis?.url ?? "", {
        maxRetriesPerRequest: 1,
        lazyConnect: true,
        commandTimeout: OBSERVER_COMMAND_TIMEOUT_MS,
      });
  observer.on("error", () => {});
  await observer.connect();
  const all = [app, ...drainers];
  try {
    // The app creates the schema; the drainers then find it.
    await app.start();
    await Promise.all(drainers.map((drainer) => drainer.start()));
  } catch (error) {
    await Promise.all(all.map((process) => process.kill("SIGKILL")));
    observer.disconnect();
    await redis?.dispose();
    await cluster?.dispose();
    await postgres.dispose();
    throw error;
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    redis,
    cluster,
    postgres,
    databaseUrl,
    app,
    drainers,
    observer,
    async terminateDatabaseConnections() {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const result = await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'chaos' AND pid <> pg_backend_pid()",
        );
        return result.rowCount ?? 0;
      } finally {
        await client.end();
      }
    },
    crashes: () => all.flatMap((process) => process.unexpectedExits),
    bufferDepth: () => bufferDepth(observer),
    async dispose() {
      await Promise.all(all.map((process) => process.kill("SIGTERM")));
      observer.disconnect();
      await redis?.dispose();
      await cluster?.dispose();
      await postgres.dispose();
    },
  };
}

// Each shard keeps its depth in a hash of its own slot; on a cluster every master is scanned.
async function bufferDepth(observer: Redis | Cluster): Promise<number> {
  const nodes = "nodes" in observer ? observer.nodes("master") : [observer];
  let total = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `{${DEMO_KEY_PREFIX}:*}:depth`, "COUNT", 1_000);
      cursor = next;
      for (const key of keys) total += Number((await node.hget(key, "total")) ?? 0);
    } while (cursor !== "0");
  }
  return total;
}
