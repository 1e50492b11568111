import { isDeepStrictEqual } from "node:util";
import { z } from "zod/v4";

/** A metadata key an operation may name: never one that reaches an object's prototype. */
const key = z
  .string()
  .min(1)
  .max(256)
  .refine((value) => !["__proto__", "constructor", "prototype"].includes(value), {
    message: "a metadata key may not be __proto__, constructor or prototype",
  });

/** One of trigger.dev's run metadata operations (`metadata.set`, `.del`, `.append`, …, flushed by the SDK). */
export const metadataOperationSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("update"), value: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal("set"), key, value: z.unknown() }),
  z.object({ type: z.literal("delete"), key }),
  z.object({ type: z.literal("append"), key, value: z.unknown() }),
  z.object({ type: z.literal("remove"), key, value: z.unknown() }),
  z.object({ type: z.literal("increment"), key, value: z.number() }),
]);

export type MetadataOperation = z.infer<typeof metadataOperationSchema>;

/** Run metadata is an object of JSON values; anything else (none, a scalar) reads as empty. */
export function metadataRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? { ...(value as Record<string, unknown>) }
    : {};
}

/**
 * Applies operations in order, as trigger.dev does: `update` replaces the
 * whole object, `set` and `delete` a key, `append` adds to a list (a scalar
 * becomes a list of two), `remove` takes equal values out of a list,
 * `increment` adds to a number (a missing key counts as 0).
 */
export function applyMetadataOperations(
  current: unknown,
  operations: readonly MetadataOperation[],
): Record<string, unknown> {
  let metadata = metadataRecord(current);
  for (const operation of operations) {
    switch (operation.type) {
      case "update":
        metadata = { ...operation.value };
        break;
      case "set":
        metadata[operation.key] = operation.value;
        break;
      case "delete":
        delete metadata[operation.key];
        break;
      case "append": {
        const existing = metadata[operation.key];
        metadata[operation.key] =
          existing === undefined
            ? [operation.value]
            : Array.isArray(existing)
              ? [...existing, operation.value]
              : [existing, operation.value];
        break;
      }
      case "remove": {
        const existing = metadata[operation.key];
        if (Array.isArray(existing)) {
          metadata[operation.key] = existing.filter((item) => !isDeepStrictEqual(item, operation.value));
        }
        break;
      }
      case "increment": {
        const existing = metadata[operation.key];
        metadata[operation.key] = (typeof existing === "number" ? existing : 0) + operation.value;
        break;
      }
    }
  }
  return metadata;
}
