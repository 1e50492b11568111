import { loadConfig } from "../app/config.server";
import { openTelemetryOptionsFromEnv, startOpenTelemetry } from "../app/observability/open-telemetry.server";
import { bootstrap, onSignals } from "./bootstrap";
import { createHttpServer, loadServerBuild } from "./http-server";

/** `pnpm demo`: Redis, database, drainer and the web app in one process. */
async function main(): Promise<void> {
  const config = loadConfig();
  const build = await loadServerBuild();
  // The global meter provider must exist before the services create the recorder's instruments.
  const telemetry = await startOpenTelemetry(openTelemetryOptionsFromEnv());
  const started = await bootstrap(config, { tracing: telemetry.tracing });
  const server = createHttpServer(build, started.services, undefined, { metrics: telemetry.serveMetrics });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  onSignals(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await started.shutdown();
    await telemetry.shutdown();
  });
  const { services } = started;
  console.log(
    [
      "",
      "  Mollifier demo",
      "  ──────────────",
      `  mode        ${config.mode}   (MOLLIFIER_MODE=off|shadow|dual-write|mollify)`,
      `  redis       ${started.redisUrl} (${started.redisSource})`,
      `  database    ${config.databaseUrl ? "Postgres (DATABASE_URL)" : "embedded PGlite, in memory"}`,
      `  drainer     ${config.drainerInProcess ? "in this process" : "separate: run `pnpm demo:drainer`"}`,
      `  budget      ${config.gate.tripThreshold} triggers per ${config.gate.tripWindowMs} ms per env · drain cap ${config.drainRatePerSecond}/s · ${config.maxConcurrentWrites} concurrent DB writes`,
      "",
      "  API keys (Authorization: Bearer <key>):",
      ...services.tenants.map(
        (tenant) => `    ${tenant.apiKey.padEnd(24)} ${tenant.orgId} / ${tenant.envId}`,
      ),
      "",
      `  Metrics:    ${url}/metrics (Prometheus)${telemetry.otlp ? " · OTLP to OTEL_EXPORTER_OTLP_ENDPOINT" : ""}`,
      `  Traces:     ${telemetry.tracing ? "a span per trigger and per drain, OTLP/HTTP" : "off (set OTEL_EXPORTER_OTLP_ENDPOINT)"}`,
      `  Dashboard:  ${url}/`,
      `  Try:        curl -X POST ${url}/api/v1/tasks/hello/trigger -H 'Authorization: Bearer ${services.tenants[0]?.apiKey}' -H 'content-type: application/json' -d '{"payload":{"hi":1}}'`,
      "",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  console.error(
    `\n  The demo could not start:\n  ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
