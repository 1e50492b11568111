import { loadConfig } from "../app/config.server";
import {
  DEFAULT_DRAINER_METRICS_PORT,
  drainerMetricsPortFromEnv,
  type MetricsServer,
  startMetricsServer,
} from "../app/observability/metrics-server";
import { openTelemetryOptionsFromEnv, startOpenTelemetry } from "../app/observability/open-telemetry.server";
import { bootstrap, onSignals } from "./bootstrap";

/**
 * The drainer's Prometheus scrape. Taken by another process: an explicit
 * MOLLIFIER_DRAINER_METRICS_PORT refuses to start, the default port only warns (several drainers on
 * one host, as `pnpm chaos` runs them, would otherwise not start at all).
 */
async function startScrape(
  host: string,
  serveMetrics: Parameters<typeof startMetricsServer>[0]["serveMetrics"],
): Promise<MetricsServer | undefined> {
  const port = drainerMetricsPortFromEnv();
  if (port === "off") return undefined;
  try {
    return await startMetricsServer({ port, host, serveMetrics });
  } catch (error) {
    const explicit = process.env.MOLLIFIER_DRAINER_METRICS_PORT?.trim();
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || explicit) throw error;
    console.warn(
      `  warning: port ${DEFAULT_DRAINER_METRICS_PORT} is taken; no Prometheus scrape for this drainer (set MOLLIFIER_DRAINER_METRICS_PORT)`,
    );
    return undefined;
  }
}

/**
 * `pnpm demo:drainer`: the drainer as its own process, against the same Redis
 * and database as the web app (start the app with MOLLIFIER_DRAINER=separate,
 * and give both the same REDIS_URL and DATABASE_URL). It exports its metrics
 * (a Prometheus scrape on MOLLIFIER_DRAINER_METRICS_PORT, OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) and its drain spans.
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
  // The global meter provider must exist before the services create the recorder's instruments.
  const telemetry = await startOpenTelemetry({
    serviceName: "mollifier-demo-drainer",
    ...openTelemetryOptionsFromEnv(),
  });
  const scrape = await startScrape(config.host, telemetry.serveMetrics);
  const started = await bootstrap(config, { runDrainer: true, tracing: telemetry.tracing });
  onSignals(async () => {
    await started.shutdown();
    await scrape?.close();
    await telemetry.shutdown();
  });
  console.log(
    `drainer running: ${config.drainRatePerSecond}/s cap, concurrency ${config.drainConcurrency}, redis ${started.redisUrl}`,
  );
  console.log(
    `  metrics ${scrape ? scrape.url : "no scrape"}${telemetry.otlp ? " · OTLP to OTEL_EXPORTER_OTLP_ENDPOINT" : ""} · traces ${telemetry.tracing ? "OTLP" : "off"}`,
  );
}

main().catch((error: unknown) => {
  console.error(`the drainer could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
