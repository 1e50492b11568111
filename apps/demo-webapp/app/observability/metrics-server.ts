import http from "node:http";

/**
 * The separate drainer's Prometheus port when `MOLLIFIER_DRAINER_METRICS_PORT` is not set: the port
 * OpenTelemetry's Prometheus exporter uses by convention.
 */
export const DEFAULT_DRAINER_METRICS_PORT = 9464;

/**
 * The separate drainer's scrape port from `MOLLIFIER_DRAINER_METRICS_PORT`: a port number (`0` picks a
 * free one), `off` for none, unset for {@link DEFAULT_DRAINER_METRICS_PORT}. Throws naming the
 * variable for anything else.
 */
export function drainerMetricsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | "off" {
  const value = env.MOLLIFIER_DRAINER_METRICS_PORT?.trim();
  if (value === undefined || value === "") return DEFAULT_DRAINER_METRICS_PORT;
  if (value === "off") return "off";
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new Error(
      `MOLLIFIER_DRAINER_METRICS_PORT must be a port number (0 picks a free one) or "off" (got ${JSON.stringify(value)})`,
    );
  }
  return port;
}

/** A running scrape server. */
export interface MetricsServer {
  /** `http://<host>:<port>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` with `serveMetrics` (the OpenTelemetry Prometheus reader's handler) on its
 * own port, for a process that has no HTTP server of its own (the separate drainer). Anything else
 * answers 404.
 */
export async function startMetricsServer(options: {
  readonly port: number;
  readonly host: string;
  readonly serveMetrics: (request: http.IncomingMessage, response: http.ServerResponse) => void;
}): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/metrics" && request.method === "GET") {
      options.serveMetrics(request, response);
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found: the scrape path is /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/metrics`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
