import { hasBrand, MollifierError } from "@mollifier/core";

const BRAND: unique symbol = Symbol.for("@mollifier/buffer/error");

/** Machine-readable codes of {@link BufferError}. */
export type BufferErrorCode =
  | "INVALID_INPUT"
  | "PAYLOAD_TOO_LARGE"
  | "INVALID_OPTIONS"
  | "EVICTION_POLICY"
  | "CLUSTER_NOT_READY"
  | "LAYOUT_MISMATCH"
  | "SHARD_MOVED"
  | "RESHARD_IN_PROGRESS"
  | "RESHARD_REFUSED";

/**
 * Base error of `@mollifier/buffer`, a `MollifierError` (`@mollifier/core`).
 * Errors are for bugs, bad input and misconfiguration; expected outcomes are
 * results. Check with {@link BufferError.isInstance}, which works across two
 * installed copies of the package (where `instanceof` does not).
 */
export class BufferError extends MollifierError<BufferErrorCode> {
  readonly [BRAND] = true;

  constructor(code: BufferErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BufferError";
  }

  /** True for any error thrown by any copy of `@mollifier/buffer`. */
  static override isInstance(value: unknown): value is BufferError {
    return hasBrand(value, BRAND);
  }
}

/** Input rejected before anything was written (`INVALID_INPUT`, `PAYLOAD_TOO_LARGE`). */
export class BufferInputError extends BufferError {
  constructor(code: "INVALID_INPUT" | "PAYLOAD_TOO_LARGE", message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BufferInputError";
  }
}

/**
 * Invalid options (`INVALID_OPTIONS`), an unsafe Redis configuration (`EVICTION_POLICY`), a
 * cluster whose nodes could not be checked (`CLUSTER_NOT_READY`), or a key layout stored in Redis
 * that differs from this process's (`LAYOUT_MISMATCH`).
 */
export class BufferConfigurationError extends BufferError {
  constructor(
    code: "INVALID_OPTIONS" | "EVICTION_POLICY" | "CLUSTER_NOT_READY" | "LAYOUT_MISMATCH",
    message: string,
  ) {
    super(code, message);
    this.name = "BufferConfigurationError";
  }
}

/**
 * A call met a shard fence left by a live reshard (ADR 15): `SHARD_MOVED` when the shard has
 * moved to the new layout (`MollifierBuffer` re-reads the layout and retries on its own; only
 * a caller of the internal operation functions sees it), `RESHARD_IN_PROGRESS` when the shard
 * was still being moved after the wait bound, and `RESHARD_REFUSED` when `reshard` cannot start
 * (another one holds the lock, or the layouts cannot coexist).
 */
export class BufferReshardError extends BufferError {
  constructor(
    code: "SHARD_MOVED" | "RESHARD_IN_PROGRESS" | "RESHARD_REFUSED",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = "BufferReshardError";
  }
}
