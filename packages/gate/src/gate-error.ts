const BRAND = Symbol.for("@mollifier/gate/error");

/** Machine-readable codes of {@link GateError}. */
export type GateErrorCode =
  /** A configuration value or an option is invalid; the message names it. */
  | "INVALID_CONFIG"
  /** The Redis client is not connected; the evaluator refuses to queue a command. */
  | "REDIS_NOT_READY"
  /** A trip script answered with a reply of the wrong shape. */
  | "UNEXPECTED_REPLY";

/**
 * The one error type `@mollifier/gate` throws (invalid configuration, outages
 * inside the evaluator). `evaluateGate` itself never throws: it turns every
 * failure into a `pass_through` / `degraded` decision. Check with
 * {@link GateError.isInstance}, which works across two installed copies of the
 * package where `instanceof` does not.
 */
export class GateError extends Error {
  readonly code: GateErrorCode;
  readonly [BRAND] = true;

  constructor(code: GateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GateError";
    this.code = code;
  }

  static isInstance(value: unknown): value is GateError {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
