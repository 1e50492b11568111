const BRAND: unique symbol = Symbol.for("@mollifier/core/error");

/** The code every Mollifier package uses for an option that fails validation. */
export const INVALID_OPTIONS = "INVALID_OPTIONS";

/**
 * The base of every error a Mollifier package throws (for bugs, bad input and
 * misconfiguration; expected outcomes are results). Each package extends it
 * with its own base error and codes (`BufferError`, `DrainerError`, …).
 * `code` is machine-readable; check with {@link MollifierError.isInstance},
 * which works across two installed copies of a package, where `instanceof`
 * does not.
 *
 * @example
 * class WidgetError extends MollifierError<"INVALID_OPTIONS" | "BROKEN"> {}
 * if (MollifierError.isInstance(error) && error.code === "INVALID_OPTIONS") …
 */
export class MollifierError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly [BRAND] = true;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MollifierError";
    this.code = code;
  }

  /** True for an error of any Mollifier package, from any installed copy. */
  static isInstance(value: unknown): value is MollifierError {
    return hasBrand(value, BRAND);
  }
}

/**
 * Whether `value` is an object carrying `brand` (a `Symbol.for` symbol, the
 * same in every copy of a package). Each package's `isInstance` uses it.
 */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
