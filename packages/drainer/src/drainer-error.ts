const BRAND = Symbol.for("@mollifier/drainer/error");

/** Machine-readable codes of {@link DrainerError}. */
export type DrainerErrorCode = "INVALID_OPTIONS" | "STOP_IN_PROGRESS" | "RATE_LIMIT_REPLY";

/**
 * The one error type `@mollifier/drainer` throws (for bugs and misuse; outcomes
 * are data). Check with {@link DrainerError.isInstance}, which works across two
 * installed copies of the package where `instanceof` does not.
 */
export class DrainerError extends Error {
  readonly code: DrainerErrorCode;
  readonly [BRAND] = true;

  constructor(code: DrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DrainerError";
    this.code = code;
  }

  static isInstance(value: unknown): value is DrainerError {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** Throws `INVALID_OPTIONS` naming `name` unless `value` is an integer within `[min, max]`. */
export function requireInteger(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DrainerError(
      "INVALID_OPTIONS",
      `${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}, got ${value}`,
    );
  }
  return value;
}

/** Throws `INVALID_OPTIONS` naming `name` unless `value` is a finite number above `min` (or equal, when `inclusive`). */
export function requireNumber(name: string, value: number, min: number, inclusive = false): number {
  if (!Number.isFinite(value) || value < min || (!inclusive && value === min)) {
    throw new DrainerError(
      "INVALID_OPTIONS",
      `${name} must be a number ${inclusive ? ">=" : ">"} ${min}, got ${value}`,
    );
  }
  return value;
}
