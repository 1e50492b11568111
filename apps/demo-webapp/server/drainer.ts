import { loadConfig } from "../app/config.server";
import { bootstrap, onSignals } from "./bootstrap";

/**
 * `pnpm demo:drainer`: the drainer as its own process, against the same Redis
 * and database as the web app (start the app with MOLLIFIER_DRAINER=separate,
 * and give both the same REDIS_URL and DATABASE_URL).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (
    (config.redisUrl === undefined && config.redisClusterNodes === undefined) ||
    config.databaseUrl === undefined
  ) {
    throw new Error(
      "a separate drainer must share Redis and the database with the app: set REDIS_URL (or REDIS_CLUSTER_NODES) and DATABASE_URL",
    );
  }
  const started = await bootstrap(config, { runDrainer: true });
  onSignals(() => started.shutdown());
  console.log(
    `drainer running: ${config.drainRatePerSecond}/s cap, concurrency ${config.drainConcurrency}, redis ${started.redisUrl}`,
  );
}

main().catch((error: unknown) => {
  console.error(`the drainer could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
