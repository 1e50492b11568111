import { Cluster, Redis } from "ioredis";
import type { AppConfig } from "../app/config.server";
import { type Database, openDatabase } from "../app/engine/database.server";
import type { TriggerTracing } from "../app/observability/trigger-tracing";
import { type AppServices, createAppServices } from "../app/services.server";
import { type OwnRedis, startOwnRedis } from "./redis-process";

/** A running app's resources, and how to release them in order. */
export interface Started {
  readonly services: AppServices;
  /** The Redis URL, or the cluster's seed nodes (`host:port,…`). */
  readonly redisUrl: string;
  readonly redisSource: "REDIS_URL" | "REDIS_CLUSTER_NODES" | "spawned redis-server";
  readonly database: Database;
  shutdown(): Promise<void>;
}

/** Connects Redis (REDIS_URL or a private redis-server) and the database, then composes the services. */
export async function bootstrap(
  config: AppConfig,
  options: { runDrainer?: boolean; tracing?: TriggerTracing | undefined } = {},
): Promise<Started> {
  let ownRedis: OwnRedis | undefined;
  const clusterNodes = config.redisClusterNodes;
  let redis: Redis | Cluster;
  let redisUrl: string;
  if (clusterNodes !== undefined) {
    redis = new Cluster([...clusterNodes], { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 2 } });
    redisUrl = clusterNodes.map(({ host, port }) => `${host}:${port}`).join(",");
  } else {
    if (config.redisUrl === undefined) ownRedis = await startOwnRedis();
    redisUrl = config.redisUrl ?? ownRedis?.url ?? "";
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  }
  let lastLogged = 0;
  redis.on("error", (error: Error) => {
    // The gate fails open and the drainer backs off during an outage: one line every few seconds is enough.
    if (Date.now() - lastLogged < 5_000) return;
    lastLogged = Date.now();
    console.error(`redis: ${error.message}`);
  });
  try {
    await redis.connect();
  } catch (error) {
    await ownRedis?.stop();
    throw new Error(`cannot connect to Redis at ${redisUrl}: ${String(error)}`);
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl });
  const services = await createAppServices({
    config,
    redis,
    database,
    ...(options.runDrainer !== undefined ? { runDrainer: options.runDrainer } : {}),
    ...(options.tracing !== undefined ? { tracing: options.tracing } : {}),
  });
  const check = await services.buffer.checkRedisConfiguration({ onEvictionPolicy: "warn" });
  if (check.outcome === "warned") {
    console.warn(
      `  warning: Redis maxmemory-policy is "${check.policy}"; the buffer needs "noeviction" or buffered runs may be evicted`,
    );
  }
  return {
    services,
    redisUrl,
    redisSource: ownRedis ? "spawned redis-server" : clusterNodes ? "REDIS_CLUSTER_NODES" : "REDIS_URL",
    database,
    async shutdown() {
      await services.close();
      redis.disconnect();
      await database.close();
      await ownRedis?.stop();
    },
  };
}

/** Runs `shutdown` once on SIGINT/SIGTERM, then exits. */
export function onSignals(shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    shutdown().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
