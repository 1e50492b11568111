import {
  ACCEPT_OUTCOMES,
  CLAIM_OUTCOMES,
  DEGRADED_COMPONENTS,
  DEGRADED_REASONS,
  FAILURE_KINDS,
  GATE_ACTIONS,
  GATE_REASONS,
} from "./label-values.js";

/** How a metric is recorded: a monotonic counter, a histogram, or an observable gauge read on collection. */
export type MetricKind = "counter" | "histogram" | "observable_gauge";

/** Whether a metric's values are whole numbers (exported as ints) or not. */
export type MetricValueType = "int" | "double";

/** A metric's label keys, each with the closed set of values it may take (besides `other`). */
export type LabelSchema = Readonly<Record<string, readonly string[]>>;

/** Everything that defines one metric. */
export interface MetricDefinition {
  /** The exported name, always prefixed `mollifier.`. */
  readonly name: string;
  readonly kind: MetricKind;
  /** A UCUM unit: `ms`, `1/s`, or an annotation such as `{entry}`. */
  readonly unit: string;
  readonly valueType: MetricValueType;
  readonly description: string;
  /** The only label keys the metric is recorded with; any value outside a key's list becomes `other`. */
  readonly labels: LabelSchema;
  /** Histogram bucket boundaries, passed to the SDK as advice. */
  readonly buckets?: readonly number[];
  /** What to alert on, for operators (rendered in the README). */
  readonly suggestedAlert: string;
}

// Time in the buffer spans a quick drain (milliseconds) to a long backlog (an hour).
const TIME_IN_BUFFER_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  1_800_000, 3_600_000,
] as const;

// A handler materialises one run into the database: milliseconds to seconds.
const HANDLER_DURATION_BUCKETS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
] as const;

/**
 * The one place that owns every Mollifier metric: its name, kind, unit,
 * description and the label keys and values it may carry. No label is a
 * run, env or org id, so every metric has a small fixed number of series.
 *
 * @example
 * ```ts
 * metricCatalog.decisions.name; // "mollifier.gate.decisions"
 * metricCatalog.decisions.labels.reason; // ["kill_switch", ..., "other"]
 * ```
 */
export const metricCatalog = {
  decisions: {
    name: "mollifier.gate.decisions",
    kind: "counter",
    unit: "{decision}",
    valueType: "int",
    description: "Gate decisions, by action and reason.",
    labels: { action: GATE_ACTIONS, reason: GATE_REASONS },
    suggestedAlert:
      "rate with reason=degraded above 1% of all decisions for 5 min (the gate is failing open); rate with action=mollify rising while the drainer is down",
  },
  accepts: {
    name: "mollifier.buffer.accepts",
    kind: "counter",
    unit: "{entry}",
    valueType: "int",
    description: "Triggers offered to the buffer, by outcome of the accept.",
    labels: { outcome: ACCEPT_OUTCOMES },
    suggestedAlert: "any outcome=over_capacity (the buffer is at capacity and refuses triggers)",
  },
  drained: {
    name: "mollifier.drainer.drained",
    kind: "counter",
    unit: "{entry}",
    valueType: "int",
    description: "Buffered entries materialised by the drainer and acknowledged.",
    labels: {},
    suggestedAlert: "zero for 5 min while mollifier.buffer.depth > 0 (the drainer is stuck or down)",
  },
  retries: {
    name: "mollifier.drainer.retries",
    kind: "counter",
    unit: "{retry}",
    valueType: "int",
    description: "Handler attempts that failed with a retryable error and were scheduled again.",
    labels: {},
    suggestedAlert: "rate above 10% of mollifier.drainer.drained for 10 min (the database is struggling)",
  },
  failures: {
    name: "mollifier.drainer.failures",
    kind: "counter",
    unit: "{entry}",
    valueType: "int",
    description: "Buffered entries that left the buffer as failed, by kind of failure.",
    labels: { kind: FAILURE_KINDS },
    suggestedAlert: "any kind=invalid_entry (a bug or schema drift); any increase of kind=attempts_exhausted",
  },
  leasesReaped: {
    name: "mollifier.buffer.leases_reaped",
    kind: "counter",
    unit: "{lease}",
    valueType: "int",
    description: "Expired leases returned to their queue by the lease reaper.",
    labels: {},
    suggestedAlert: "sustained increase (drainer processes die or handlers outlive their lease)",
  },
  claims: {
    name: "mollifier.idempotency.claims",
    kind: "counter",
    unit: "{claim}",
    valueType: "int",
    description: "Idempotency claims made before the gate, by outcome.",
    labels: { outcome: CLAIM_OUTCOMES },
    suggestedAlert: "outcome=timed_out or outcome=degraded above 1% of claims for 5 min",
  },
  degraded: {
    name: "mollifier.degraded",
    kind: "counter",
    unit: "{event}",
    valueType: "int",
    description: "Times a component fell back to its safe default, by component and reason.",
    labels: { component: DEGRADED_COMPONENTS, reason: DEGRADED_REASONS },
    suggestedAlert: "any sustained rate (Redis is slow or unreachable; triggers bypass the buffer)",
  },
  timeInBuffer: {
    name: "mollifier.buffer.time_in_buffer",
    kind: "histogram",
    unit: "ms",
    valueType: "double",
    description: "Time from accept to acknowledgement of a drained entry.",
    labels: {},
    buckets: TIME_IN_BUFFER_BUCKETS_MS,
    suggestedAlert: "p99 above 60 s for 10 min (runs wait too long before they start)",
  },
  handlerDuration: {
    name: "mollifier.drainer.handler_duration",
    kind: "histogram",
    unit: "ms",
    valueType: "double",
    description: "Duration of the drain handler that materialises one entry.",
    labels: {},
    buckets: HANDLER_DURATION_BUCKETS_MS,
    suggestedAlert: "p99 above 1 s for 10 min (the database is slow; adaptive concurrency backs off)",
  },
  bufferDepth: {
    name: "mollifier.buffer.depth",
    kind: "observable_gauge",
    unit: "{entry}",
    valueType: "int",
    description: "Entries in the buffer (any state), from the latest stats snapshot.",
    labels: {},
    suggestedAlert: "above 80% of the buffer's capacity, or growing for 15 min",
  },
  oldestEntryAge: {
    name: "mollifier.buffer.oldest_entry_age",
    kind: "observable_gauge",
    unit: "ms",
    valueType: "double",
    description: "Age of the oldest entry in the buffer, from the latest stats snapshot.",
    labels: {},
    suggestedAlert: "above 5 min (the backlog is not draining)",
  },
  leasesInFlight: {
    name: "mollifier.buffer.leases_in_flight",
    kind: "observable_gauge",
    unit: "{lease}",
    valueType: "int",
    description: "Entries leased to a drainer and not yet acknowledged, from the latest stats snapshot.",
    labels: {},
    suggestedAlert: "stays at the drain concurrency while drained is zero (handlers hang)",
  },
  drainRateLimit: {
    name: "mollifier.drainer.rate_limit",
    kind: "observable_gauge",
    unit: "1/s",
    valueType: "double",
    description: "The shared cap on materialisations per second in force; not reported while uncapped.",
    labels: {},
    suggestedAlert: "none; chart it next to the drain rate",
  },
  drainConcurrency: {
    name: "mollifier.drainer.concurrency",
    kind: "observable_gauge",
    unit: "{handler}",
    valueType: "int",
    description: "Handlers the drainer runs at once now (changes in adaptive mode).",
    labels: {},
    suggestedAlert: "at its floor for 15 min (adaptive mode sees a struggling database)",
  },
} as const satisfies Record<string, MetricDefinition>;

/** The key of one metric in {@link metricCatalog}. */
export type MetricKey = keyof typeof metricCatalog;

/** The label keys of one metric. */
export type LabelKeyOf<M extends MetricKey> = keyof (typeof metricCatalog)[M]["labels"] & string;

/** Every metric in {@link metricCatalog}, in catalog order. */
export const metricDefinitions: readonly MetricDefinition[] = Object.values(metricCatalog);
