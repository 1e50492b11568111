import { createRecorder, type MollifierLogger } from "@mollifier/telemetry";
import { metrics } from "@opentelemetry/api";
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";

// Any SDK and exporter (e.g. OTLPMetricExporter from @opentelemetry/exporter-metrics-otlp-http).
const provider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })],
});
metrics.setGlobalMeterProvider(provider);

// Run, org and env ids go only to these structured events (e.g. pino), never to metric labels.
const logger: MollifierLogger = {
  info: (event, fields) => console.info(event, fields),
  warn: (event, fields) => console.warn(event, fields),
  error: (event, fields) => console.error(event, fields),
};

// Create it after the provider is registered (or pass `meter`): the default meter is
// resolved when createRecorder is called, never at import.
const recorder = createRecorder({ logger });

// Gate, drainer and read-fallback take it as an optional dependency:
//   evaluateGate(inputs, { config, resolveEnrollment, evaluator, recorder })
//   new Drainer({ source: buffer, handler, isRetryable, recorder }) // reports drainLimits itself
//   setInterval(async () => recorder.bufferStats(await buffer.stats()), 5_000) // gauges
recorder.degraded({ component: "gate", reason: "timeout", orgId: "org_1", envId: "env_prod" });

// On shutdown (or hot reload): detach the gauge callbacks, then flush the SDK.
recorder.close();
await provider.shutdown();
