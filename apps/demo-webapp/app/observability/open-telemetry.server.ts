import type { IncomingMessage, ServerResponse } from "node:http";
import { metrics } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";

/** Where the demo's metrics go, read from the environment by the app (packages never read it). */
export interface OpenTelemetryOptions {
  /**
   * The OTLP/HTTP collector base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); metrics are pushed to
   * `<endpoint>/v1/metrics`. @default undefined (Prometheus scrape only)
   */
  readonly otlpEndpoint?: string;
  /** Push interval of the OTLP reader, ms. @default 15_000 */
  readonly otlpIntervalMs?: number;
  /** `service.name` of the resource. @default "mollifier-demo" */
  readonly serviceName?: string;
}

/** The registered SDK: the `/metrics` handler and how to flush and stop it. */
export interface OpenTelemetry {
  /** Answers a Prometheus scrape (text exposition format) from the app's own HTTP server. */
  readonly serveMetrics: (request: IncomingMessage, response: ServerResponse) => void;
  /** Whether OTLP export is on. */
  readonly otlp: boolean;
  shutdown(): Promise<void>;
}

/** Default OTLP push interval. */
export const DEFAULT_OTLP_INTERVAL_MS = 15_000;

/** Reads the demo's telemetry options from the environment. */
export function openTelemetryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OpenTelemetryOptions {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  return {
    ...(endpoint ? { otlpEndpoint: endpoint } : {}),
    ...(serviceName ? { serviceName } : {}),
  };
}

/**
 * Registers the OpenTelemetry metrics SDK as the global meter provider, with a Prometheus reader
 * that serves no port of its own (the app's server routes `/metrics` to it) and, when an OTLP
 * endpoint is given, an OTLP/HTTP push reader. Call it before `createRecorder` resolves its meter.
 */
export function startOpenTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetry {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [prometheus];
  if (options.otlpEndpoint !== undefined) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, "")}/v1/metrics` }),
        exportIntervalMillis: options.otlpIntervalMs ?? DEFAULT_OTLP_INTERVAL_MS,
      }),
    );
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? "mollifier-demo" }),
    readers,
  });
  metrics.setGlobalMeterProvider(provider);
  return {
    serveMetrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    otlp: options.otlpEndpoint !== undefined,
    async shutdown() {
      await provider.shutdown();
      metrics.disable();
    },
  };
}
