// Test-only (excluded from the build): a real SDK MeterProvider whose metrics tests read back
// through the in-memory exporter, exactly as an OTLP exporter would receive them.
import type { Meter } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import type { MetricKind } from "./metric-catalog.js";

// Far longer than any test: exports happen only when a test calls collect().
const EXPORT_INTERVAL_MS = 3_600_000;

export interface TestMeter {
  readonly provider: MeterProvider;
  readonly meter: Meter;
  /** Exports now and returns every metric of the export. */
  collect(): Promise<MetricData[]>;
  /** Exports now and returns the metric named `name`, or `undefined` when it has no data. */
  metric(name: string): Promise<MetricData | undefined>;
  shutdown(): Promise<void>;
}

export function createTestMeter(): TestMeter {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: EXPORT_INTERVAL_MS });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
  };
  return {
    provider,
    meter: provider.getMeter("mollifier-test"),
    collect,
    async metric(name) {
      return (await collect()).find((metric) => metric.descriptor.name === name);
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The catalog kind an exported metric was recorded with. */
export function exportedKind(metric: MetricData): MetricKind | "unexpected" {
  if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic) return "counter";
  if (metric.dataPointType === DataPointType.HISTOGRAM) return "histogram";
  if (metric.dataPointType === DataPointType.GAUGE) return "observable_gauge";
  return "unexpected";
}
