import { hasBrand, MollifierError, optionChecks } from "@mollifier/core";
import type { IdempotencyRef, RunRef } from "./run-store.js";

const BRAND = Symbol.for("@mollifier/read-fallback/error");

/** Machine-readable codes of {@link ReadFallbackError}. */
export type ReadFallbackErrorCode = "INVALID_OPTIONS" | "INVALID_INPUT";

/**
 * The one error type `@mollifier/read-fallback` throws (for bugs and misuse;
 * outcomes are data), a `MollifierError` of `@mollifier/core`. Check with
 * {@link ReadFallbackError.isInstance}, which works across two installed
 * copies of the package where `instanceof` does not.
 */
export class ReadFallbackError extends MollifierError<ReadFallbackErrorCode> {
  readonly [BRAND] = true;

  constructor(code: ReadFallbackErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "ReadFallbackError";
  }

  /** True for any error thrown by any copy of `@mollifier/read-fallback`. */
  static override isInstance(value: unknown): value is ReadFallbackError {
    return hasBrand(value, BRAND);
  }
}

/** The checks of {@link ReadFallbackOptions}: failures throw `INVALID_OPTIONS` naming `ReadFallbackOptions.<path>`. */
export const readFallbackOptionChecks = optionChecks(
  "ReadFallbackOptions",
  (message) => new ReadFallbackError("INVALID_OPTIONS", message),
);

/**
 * Throws `INVALID_INPUT` naming `name` unless `value` is a non-empty string.
 * Every id is checked before any I/O: an `undefined` id must never reach a
 * database query, where an ORM may drop it from the filter and match any row.
 */
export function requireId(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ReadFallbackError(
      "INVALID_INPUT",
      `${name} must be a non-empty string, got ${describe(value)}`,
    );
  }
  return value;
}

/** Validates a run ref's ids (see {@link requireId}); throws `INVALID_INPUT`. */
export function requireRunRef(ref: RunRef): RunRef {
  return {
    orgId: requireId("orgId", ref?.orgId),
    envId: requireId("envId", ref?.envId),
    runId: requireId("runId", ref?.runId),
  };
}

/** Validates an idempotency ref's ids (see {@link requireId}); throws `INVALID_INPUT`. */
export function requireIdempotencyRef(ref: IdempotencyRef): IdempotencyRef {
  return {
    orgId: requireId("orgId", ref?.orgId),
    envId: requireId("envId", ref?.envId),
    taskId: requireId("taskId", ref?.taskId),
    idempotencyKey: requireId("idempotencyKey", ref?.idempotencyKey),
  };
}

/** Throws `INVALID_INPUT` naming `name` unless `value` is a finite number (epoch ms). */
export function requireTime(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ReadFallbackError(
      "INVALID_INPUT",
      `${name} must be a finite epoch-ms number, got ${describe(value)}`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  return value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
}
