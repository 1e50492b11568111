import type { IncomingMessage, ServerResponse } from "node:http";
import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { TriggerTracing } from "./trigger-tracing";

/** Where the demo's metrics go, read from the environment by the app (packages never read it). */
export interface OpenTelemetryOptions {
  /**
   * The OTLP/HTTP collector base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); metrics are pushed to
   * `<endpoint>/v1/metrics`. @default undefined (Prometheus scrape only)
   */
  readonly otlpEndpoint?: string;
  /** Push interval of the OTLP reader, ms (`OTEL_METRIC_EXPORT_INTERVAL`). @default 15_000 */
  readonly otlpIntervalMs?: number;
  /** `service.name` of the resource. @default "mollifier-demo" */
  readonly serviceName?: string;
  /**
   * The OTLP/HTTP traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`). Without it tracing is off: no tracer exists and the
   * trigger route creates no span. @default undefined
   */
  readonly tracesUrl?: string;
}

/** The registered SDK: the `/metrics` handler and how to flush and stop it. */
export interface OpenTelemetry {
  /** Answers a Prometheus scrape (text exposition format) from the app's own HTTP server. */
  readonly serveMetrics: (request: IncomingMessage, response: ServerResponse) => void;
  /** Whether OTLP export of metrics is on. */
  readonly otlp: boolean;
  /** A span per trigger and per drain, exported over OTLP; `undefined` when tracing is off. */
  readonly tracing: TriggerTracing | undefined;
  shutdown(): Promise<void>;
}

/** Default OTLP push interval. */
export const DEFAULT_OTLP_INTERVAL_MS = 15_000;

/** Where an OTLP/HTTP collector listens when `OTEL_TRACES_EXPORTER=otlp` names no endpoint. */
export const DEFAULT_OTLP_TRACES_URL = "http://localhost:4318/v1/traces";

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * The traces URL the environment asks for, or `undefined` (tracing off): `OTEL_TRACES_EXPORTER=none`
 * turns it off, `otlp` (the default) exports to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
 * `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`; with neither set tracing is off unless
 * `OTEL_TRACES_EXPORTER=otlp` is explicit ({@link DEFAULT_OTLP_TRACES_URL}).
 */
export function tracesUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === "none") return undefined;
  if (exporter !== undefined && exporter !== "" && exporter !== "otlp") {
    throw new Error(`OTEL_TRACES_EXPORTER must be "otlp" or "none" (got ${JSON.stringify(exporter)})`);
  }
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (tracesEndpoint) return tracesEndpoint;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (endpoint) return `${withoutTrailingSlash(endpoint)}/v1/traces`;
  return exporter === "otlp" ? DEFAULT_OTLP_TRACES_URL : undefined;
}

/** Reads the demo's telemetry options from the environment. */
export function openTelemetryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OpenTelemetryOptions {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  const tracesUrl = tracesUrlFromEnv(env);
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL?.trim() || Number.NaN);
  return {
    ...(endpoint ? { otlpEndpoint: endpoint } : {}),
    ...(Number.isSafeInteger(interval) && interval > 0 ? { otlpIntervalMs: interval } : {}),
    ...(serviceName ? { serviceName } : {}),
    ...(tracesUrl !== undefined ? { tracesUrl } : {}),
  };
}

/**
 * Registers the OpenTelemetry metrics SDK as the global meter provider, with a Prometheus reader
 * that serves no port of its own (the app's server routes `/metrics` to it) and, when an OTLP
 * endpoint is given, an OTLP/HTTP push reader. Call it before `createRecorder` resolves its meter.
 * With a traces URL it also builds a tracer provider exporting spans over OTLP/HTTP (JSON) in
 * batches, and the app's {@link TriggerTracing} over it. The OTLP exporters and the tracing SDK
 * are imported only when asked for: together they took about 0.3 s of every process start.
 */
export async function startOpenTelemetry(options: OpenTelemetryOptions = {}): Promise<OpenTelemetry> {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [prometheus];
  if (options.otlpEndpoint !== undefined) {
    const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-http");
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${withoutTrailingSlash(options.otlpEndpoint)}/v1/metrics` }),
        exportIntervalMillis: options.otlpIntervalMs ?? DEFAULT_OTLP_INTERVAL_MS,
      }),
    );
  }
  const resource = resourceFromAttributes({ "service.name": options.serviceName ?? "mollifier-demo" });
  const provider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(provider);
  // Not registered globally: the packages make no spans, and the app hands its tracer down itself.
  let tracerProvider: { shutdown(): Promise<void> } | undefined;
  let tracing: TriggerTracing | undefined;
  if (options.tracesUrl !== undefined) {
    const [{ OTLPTraceExporter }, { BasicTracerProvider, BatchSpanProcessor }, { createTriggerTracing }] =
      await Promise.all([
        import("@opentelemetry/exporter-trace-otlp-http"),
        import("@opentelemetry/sdk-trace-base"),
        import("./trigger-tracing"),
      ]);
    const traces = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.tracesUrl }))],
    });
    tracerProvider = traces;
    tracing = createTriggerTracing(traces.getTracer("mollifier-demo"));
  }
  return {
    serveMetrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    otlp: options.otlpEndpoint !== undefined,
    tracing,
    async shutdown() {
      // Spans still batched are sent before the process ends.
      await tracerProvider?.shutdown();
      await provider.shutdown();
      metrics.disable();
    },
  };
}
