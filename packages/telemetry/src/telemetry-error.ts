import { hasBrand, MollifierError } from "@mollifier/core";

const TELEMETRY_ERROR_BRAND = Symbol.for("@mollifier/telemetry/error");

/** Machine-readable codes of {@link TelemetryError}. */
export type TelemetryErrorCode = "INVALID_OPTIONS";

/**
 * The base error of `@mollifier/telemetry`, thrown only for misuse such as an
 * invalid option; recording itself never throws. A `MollifierError` of
 * `@mollifier/core`. Check it with {@link TelemetryError.isInstance}, which
 * works across two installed copies of the package, where `instanceof` does not.
 */
export class TelemetryError extends MollifierError<TelemetryErrorCode> {
  readonly [TELEMETRY_ERROR_BRAND] = true;

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "TelemetryError";
  }

  /** Whether `value` is a {@link TelemetryError} from any copy of this package. */
  static override isInstance(value: unknown): value is TelemetryError {
    return hasBrand(value, TELEMETRY_ERROR_BRAND);
  }
}
