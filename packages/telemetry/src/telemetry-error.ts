const TELEMETRY_ERROR_BRAND = Symbol.for("@mollifier/telemetry/error");

/** Machine-readable codes of {@link TelemetryError}. */
export type TelemetryErrorCode = "INVALID_OPTION";

/**
 * The base error of `@mollifier/telemetry`, thrown only for misuse such as an
 * invalid option; recording itself never throws. Check it with
 * {@link TelemetryError.isInstance}, which works across two installed copies
 * of the package, where `instanceof` does not.
 */
export class TelemetryError extends Error {
  readonly code: TelemetryErrorCode;
  readonly [TELEMETRY_ERROR_BRAND] = true;

  constructor(code: TelemetryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TelemetryError";
    this.code = code;
  }

  /** Whether `value` is a {@link TelemetryError} from any copy of this package. */
  static isInstance(value: unknown): value is TelemetryError {
    return typeof value === "object" && value !== null && TELEMETRY_ERROR_BRAND in value;
  }
}
