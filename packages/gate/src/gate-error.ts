import { hasBrand, MollifierError, type OptionChecks, optionChecks } from "@mollifier/core";

const BRAND = Symbol.for("@mollifier/gate/error");

/** Machine-readable codes of {@link GateError}. */
export type GateErrorCode =
  /** A configuration value or an option is invalid; the message names it. */
  | "INVALID_OPTIONS"
  /** The Redis client is not connected; the evaluator refuses to queue a command. */
  | "REDIS_NOT_READY"
  /** A trip script answered with a reply of the wrong shape. */
  | "UNEXPECTED_REPLY";

/**
 * The one error type `@mollifier/gate` throws (invalid configuration, outages
 * inside the evaluator). `evaluateGate` itself never throws: it turns every
 * failure into a `pass_through` / `degraded` decision. Check with
 * {@link GateError.isInstance}, which works across two installed copies of the
 * package where `instanceof` does not. It is a `MollifierError` of
 * `@mollifier/core`.
 */
export class GateError extends MollifierError<GateErrorCode> {
  readonly [BRAND] = true;

  constructor(code: GateErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "GateError";
  }

  /** True for any error thrown by any copy of `@mollifier/gate`. */
  static override isInstance(value: unknown): value is GateError {
    return hasBrand(value, BRAND);
  }
}

/**
 * The option checks of `owner` (e.g. `"RedisTripEvaluatorOptions"`): each
 * failure throws `INVALID_OPTIONS` as `"<owner>.<path> must be …, got …"`.
 */
export function gateOptionChecks(owner: string): OptionChecks {
  return optionChecks(owner, (message) => new GateError("INVALID_OPTIONS", message));
}
