import { hasBrand, MollifierError, type OptionChecks, optionChecks } from "@mollifier/core";

const BRAND = Symbol.for("@mollifier/drainer/error");

/** Machine-readable codes of {@link DrainerError}. */
export type DrainerErrorCode =
  | "INVALID_OPTIONS"
  | "STOP_IN_PROGRESS"
  | "RATE_LIMIT_REPLY"
  | "RATE_LIMIT_UNAVAILABLE"
  | "LEASE_UNANSWERED"
  | "STOPPED";

/**
 * The one error type `@mollifier/drainer` throws (for bugs and misuse; outcomes
 * are data), a `MollifierError` of `@mollifier/core`. Check with
 * {@link DrainerError.isInstance}, which works across two installed copies of
 * the package where `instanceof` does not.
 */
export class DrainerError extends MollifierError<DrainerErrorCode> {
  readonly [BRAND] = true;

  constructor(code: DrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "DrainerError";
  }

  /** True for any error thrown by any copy of `@mollifier/drainer`. */
  static override isInstance(value: unknown): value is DrainerError {
    return hasBrand(value, BRAND);
  }
}

/**
 * The option checks of `owner` (e.g. `"SharedRateLimiterOptions"`): each
 * failure throws `INVALID_OPTIONS` as `"<owner>.<path> must be …, got …"`.
 */
export function drainerOptionChecks(owner: string): OptionChecks {
  return optionChecks(owner, (message) => new DrainerError("INVALID_OPTIONS", message));
}

const drainerOptions = drainerOptionChecks("DrainerOptions");

/** Throws `INVALID_OPTIONS` naming `DrainerOptions.<path>` unless `value` is an integer within `[min, max]`. */
export function requireInteger(path: string, value: number, min: number, max?: number): number {
  return drainerOptions.integer(path, value, min, max);
}

/**
 * Throws `INVALID_OPTIONS` naming `DrainerOptions.<path>` unless `value` is a
 * finite number above `min` (or equal, when `inclusive`).
 */
export function requireNumber(path: string, value: number, min: number, inclusive = false): number {
  return drainerOptions.number(path, value, inclusive ? { min } : { above: min });
}
