import {
  freePort,
  type PostgresServerProcess,
  type RedisServerProcess,
  startPostgresServer,
  startRedisServer,
} from "@mollifier/testing/servers";
import { Redis } from "ioredis";
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
}

/**
 * The whole system as a user runs it, as real processes: a Redis with an
 * append-only file, a PostgreSQL server, the demo app (`MOLLIFIER_DRAINER=separate`)
 * and separate drainers, all on loopback. Each piece can be killed and started
 * again; {@link Stack.dispose} stops everything.
 */
export interface Stack {
  readonly baseUrl: string;
  readonly redis: RedisServerProcess;
  readonly postgres: PostgresServerProcess;
  readonly databaseUrl: string;
  readonly app: AppProcess;
  readonly drainers: readonly AppProcess[];
  /** A client on the stack's Redis for observing it (command counts, depth). */
  readonly observer: Redis;
  /** Ends every open connection to the database, as a failover or restart does. */
  terminateDatabaseConnections(): Promise<number>;
  /** Every unexpected exit of any process. */
  crashes(): string[];
  dispose(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redis = await startRedisServer({
    // An append-only file fsynced on every write: a restart keeps every acknowledged entry.
    extraArgs: ["--appendonly", "yes", "--appendfsync", "always"],
  });
  const postgres = await startPostgresServer();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query("CREATE DATABASE chaos");
  await admin.end();
  const databaseUrl = postgres.url.replace(/\/postgres$/, "/chaos");
  const port = await freePort();
  const environment: Record<string, string> = {
    REDIS_URL: redis.url,
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
  const observer = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
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
    await redis.dispose();
    await postgres.dispose();
    throw error;
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    redis,
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
    async dispose() {
      await Promise.all(all.map((process) => process.kill("SIGTERM")));
      observer.disconnect();
      await redis.dispose();
      await postgres.dispose();
    },
  };
}
