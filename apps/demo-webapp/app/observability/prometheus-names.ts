import { type MetricDefinition, type MetricKey, metricCatalog } from "@mollifier/telemetry";

/**
 * The series names a Prometheus scrape of the demo shows for one catalogue metric, as
 * `@opentelemetry/exporter-prometheus` (0.205) names them: dots become underscores, counters end in
 * `_total`, histograms expose `_bucket`, `_sum` and `_count`; units are not appended (they go to
 * the `# UNIT` line). `test/metrics-endpoint.test.ts` checks this against a real scrape.
 *
 * @example
 * ```ts
 * prometheusSeriesOf(metricCatalog.decisions); // ["mollifier_gate_decisions_total"]
 * ```
 */
export function prometheusSeriesOf(metric: MetricDefinition): readonly string[] {
  const base = metric.name.replace(/[^a-zA-Z0-9_:]/g, "_");
  if (metric.kind === "counter") return [`${base}_total`];
  if (metric.kind === "histogram") return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
  return [base];
}

/** Every series name the catalogue can produce, keyed by the series name, to the catalogue key. */
export function prometheusCatalogue(): ReadonlyMap<string, MetricKey> {
  const names = new Map<string, MetricKey>();
  for (const [key, metric] of Object.entries(metricCatalog) as [MetricKey, MetricDefinition][]) {
    for (const series of prometheusSeriesOf(metric)) names.set(series, key);
  }
  return names;
}
