import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { LogFields } from "./mollifier-logger.js";

/** The namespace of every span attribute and span event attribute the recorder writes. */
export const SPAN_ATTRIBUTE_PREFIX = "mollifier.";

function isAttributeValue(value: unknown): value is AttributeValue {
  return (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/**
 * Turns log fields into span attributes: `runId` becomes `mollifier.run_id`,
 * and only strings, booleans and finite numbers are kept. Span attributes,
 * unlike metric labels, may carry run, org and env ids: they belong to one
 * trace, not to a time series.
 *
 * @example
 * ```ts
 * spanAttributesOf({ runId: "run_1", timeInBufferMs: 12 });
 * // { "mollifier.run_id": "run_1", "mollifier.time_in_buffer_ms": 12 }
 * ```
 */
export function spanAttributesOf(fields: LogFields): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!isAttributeValue(value)) continue;
    attributes[`${SPAN_ATTRIBUTE_PREFIX}${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`] =
      value;
  }
  return attributes;
}
