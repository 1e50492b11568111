import {
  type Counter,
  type Histogram,
  type Meter,
  type ObservableGauge,
  ValueType,
} from "@opentelemetry/api";
import { type MetricDefinition, type MetricKey, metricCatalog } from "./metric-catalog.js";

type KeysOfKind<K> = {
  [M in MetricKey]: (typeof metricCatalog)[M]["kind"] extends K ? M : never;
}[MetricKey];

/** The catalog metrics recorded with a counter. */
export type CounterKey = KeysOfKind<"counter">;
/** The catalog metrics recorded with a histogram. */
export type HistogramKey = KeysOfKind<"histogram">;
/** The catalog metrics read through an observable gauge. */
export type GaugeKey = KeysOfKind<"observable_gauge">;

/** One OpenTelemetry instrument per catalog metric, created on one meter. */
export interface MollifierInstruments {
  readonly counters: Readonly<Record<CounterKey, Counter>>;
  readonly histograms: Readonly<Record<HistogramKey, Histogram>>;
  readonly gauges: Readonly<Record<GaugeKey, ObservableGauge>>;
}

function optionsOf(definition: MetricDefinition) {
  return {
    description: definition.description,
    unit: definition.unit,
    valueType: definition.valueType === "int" ? ValueType.INT : ValueType.DOUBLE,
    ...(definition.buckets === undefined
      ? {}
      : { advice: { explicitBucketBoundaries: [...definition.buckets] } }),
  };
}

function create<K extends MetricKey, I>(
  kind: MetricDefinition["kind"],
  make: (name: string, options: ReturnType<typeof optionsOf>) => I,
): Record<K, I> {
  const instruments: Partial<Record<MetricKey, I>> = {};
  for (const [key, definition] of Object.entries(metricCatalog) as [MetricKey, MetricDefinition][]) {
    if (definition.kind === kind) instruments[key] = make(definition.name, optionsOf(definition));
  }
  return instruments as Record<K, I>;
}

/**
 * Creates every instrument of {@link metricCatalog} on `meter`, with the
 * catalog's name, unit, description, value type and bucket advice. Gauges are
 * returned without callbacks.
 */
export function createInstruments(meter: Meter): MollifierInstruments {
  return {
    counters: create<CounterKey, Counter>("counter", (name, options) => meter.createCounter(name, options)),
    histograms: create<HistogramKey, Histogram>("histogram", (name, options) =>
      meter.createHistogram(name, options),
    ),
    gauges: create<GaugeKey, ObservableGauge>("observable_gauge", (name, options) =>
      meter.createObservableGauge(name, options),
    ),
  };
}
