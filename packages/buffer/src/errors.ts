const BRAND: unique symbol = Symbol.for("@mollifier/buffer/error");

/** Machine-readable codes of {@link BufferError}. */
export type BufferErrorCode = "INVALID_INPUT" | "PAYLOAD_TOO_LARGE" | "INVALID_OPTIONS" | "EVICTION_POLICY";

/**
 * Base error of `@mollifier/buffer`. Errors are for bugs, bad input and
 * misconfiguration; expected outcomes are results. Check with
 * {@link BufferError.isInstance}, which works across two installed copies of
 * the package (where `instanceof` does not).
 */
export class BufferError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly code: BufferErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BufferError";
  }

  /** True for any error thrown by any copy of `@mollifier/buffer`. */
  static isInstance(value: unknown): value is BufferError {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** Input rejected before anything was written (`INVALID_INPUT`, `PAYLOAD_TOO_LARGE`). */
export class BufferInputError extends BufferError {
  constructor(code: "INVALID_INPUT" | "PAYLOAD_TOO_LARGE", message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BufferInputError";
  }
}

/** Invalid options (`INVALID_OPTIONS`) or an unsafe Redis configuration (`EVICTION_POLICY`). */
export class BufferConfigurationError extends BufferError {
  constructor(code: "INVALID_OPTIONS" | "EVICTION_POLICY", message: string) {
    super(code, message);
    this.name = "BufferConfigurationError";
  }
}
