/** An HTTP error answer of the API: `{ error: message }` with a status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toResponse(): Response {
    return Response.json({ error: this.message, code: this.code }, { status: this.status });
  }
}

export const notFound = (what = "run"): ApiError => new ApiError(404, `${what} not found`, "NOT_FOUND");
