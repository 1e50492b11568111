const BRAND: unique symbol = Symbol.for("@mollifier/demo-webapp/api-error");

/**
 * An HTTP error answer of the API: `{ error: message, code }` with a status
 * (and a `Retry-After` when the caller should come back). Checked with
 * {@link ApiError.isInstance}: the server and the routes can load this module
 * as two copies, where `instanceof` fails and a documented 4xx would become a 500.
 */
export class ApiError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  static isInstance(value: unknown): value is ApiError {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  toResponse(): Response {
    const headers =
      this.retryAfterSeconds === undefined ? undefined : { "retry-after": String(this.retryAfterSeconds) };
    return Response.json({ error: this.message, code: this.code }, { status: this.status, headers });
  }
}

export const notFound = (what = "run"): ApiError => new ApiError(404, `${what} not found`, "NOT_FOUND");

/** Seconds a caller is asked to wait before retrying a refused trigger (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** 503: neither the database nor the buffer could take (or check) the request; nothing was written. */
export const unavailable = (message: string): ApiError =>
  new ApiError(503, message, "UNAVAILABLE", RETRY_AFTER_SECONDS);

/** 429: the buffer holds as many of this env's (or org's) runs as it may; nothing was written. */
export const bufferFull = (scope: "env" | "org", depth: number, limit: number): ApiError =>
  new ApiError(
    429,
    `this ${scope === "env" ? "environment" : "organization"} has ${depth} runs waiting in the buffer, the most it may have (${limit}); nothing was written, retry later`,
    "BUFFER_FULL",
    RETRY_AFTER_SECONDS,
  );
