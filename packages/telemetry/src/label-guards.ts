import { OTHER_LABEL_VALUE } from "./label-values.js";
import { type LabelKeyOf, type LabelSchema, type MetricKey, metricCatalog } from "./metric-catalog.js";

/** A metric's labels as a caller may offer them: only the catalog's keys, each optional. */
export type LabelInput<M extends MetricKey> = { readonly [K in LabelKeyOf<M>]?: string | undefined };

/** A label set safe to hand to an instrument: only allowed keys, only allowed values or `other`. */
export type GuardedLabels = Readonly<Record<string, string>>;

// Tenant and entity ids: one series per id would make cardinality unbounded.
const ID_LIKE_KEY = /(ids?|uuid|key)$|^(run|env|environment|org|organization|tenant|task|user)$/i;

/**
 * The value a label takes: `value` when it is one of `allowed`, otherwise
 * `other` (including for non-strings and ids a caller passes by mistake).
 */
export function labelValue(allowed: readonly string[], value: unknown): string {
  return typeof value === "string" && allowed.includes(value) ? value : OTHER_LABEL_VALUE;
}

/**
 * Builds a label set from `schema` alone: every key of the schema is present,
 * with its value from `input` when allowed and `other` otherwise. Keys of
 * `input` that the schema does not name (a run, env or org id, say) are never
 * read, so they cannot reach an instrument.
 */
export function guardLabelSet(schema: LabelSchema, input: Readonly<Record<string, unknown>>): GuardedLabels {
  const labels: Record<string, string> = {};
  for (const [key, allowed] of Object.entries(schema)) {
    labels[key] = labelValue(allowed, Object.hasOwn(input, key) ? input[key] : undefined);
  }
  return labels;
}

/**
 * Builds the label set of one catalog metric. Object literals with a key the
 * metric does not allow do not compile; at run time such keys are dropped and
 * unknown values become `other`.
 *
 * @example
 * ```ts
 * guardLabels("decisions", { action: "mollify", reason: "per_env_rate" });
 * // { action: "mollify", reason: "per_env_rate" }
 * guardLabels("decisions", { action: "mollify", reason: "env_123_over" });
 * // { action: "mollify", reason: "other" }
 * ```
 */
export function guardLabels<M extends MetricKey>(metric: M, input: LabelInput<M>): GuardedLabels {
  return guardLabelSet(metricCatalog[metric].labels, input);
}

/**
 * Whether a label key names an id (`runId`, `env_id`, `org`, `idempotencyKey`,
 * ...). Such keys are refused in the catalog: ids belong in logs and span
 * attributes, never in metric labels.
 */
export function isIdLikeLabelKey(key: string): boolean {
  return ID_LIKE_KEY.test(key);
}

/** The keys of `schema` that name an id; empty for a schema safe to use as metric labels. */
export function idLikeLabelKeys(schema: LabelSchema): readonly string[] {
  return Object.keys(schema).filter(isIdLikeLabelKey);
}
