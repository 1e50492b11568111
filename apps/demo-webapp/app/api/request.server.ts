import { isDependencyUnavailable } from "@mollifier/drainer";
import type { z } from "zod/v4";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AppServices } from "../services.server";
import { ApiError, unavailable } from "./api-error";
import type { ApiRequest } from "./api-request";
import type { ApiAnswer } from "./json-response";
import { describeIssue } from "./trigger-schema";

/** Reads a JSON body no larger than `maxBytes`: 413 when larger, 400 when not JSON. */
export async function readJson(request: ApiRequest, maxBytes: number, optional = false): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(413, `body is larger than ${maxBytes} bytes`, "PAYLOAD_TOO_LARGE");
  }
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) {
    throw new ApiError(413, `body is larger than ${maxBytes} bytes`, "PAYLOAD_TOO_LARGE");
  }
  if (optional && text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "body is not valid JSON", "MALFORMED_JSON");
  }
}

/** Validates against `schema`: 422 with the first issue as the message. */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(422, describeIssue(parsed.error), "INVALID_OPTIONS");
  return parsed.data;
}

/** The environment of the request's `Authorization: Bearer <key>`: 401 otherwise. */
export function authenticate(request: ApiRequest, services: AppServices): SeededEnvironment {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const env = match?.[1] ? services.apiKeys.get(match[1]) : undefined;
  if (!env) throw new ApiError(401, "missing or invalid API key", "UNAUTHORIZED");
  return env;
}

/** Runs an API handler: authenticates, turns {@link ApiError}s into answers and records latency. */
export async function handleApi(
  request: ApiRequest,
  services: AppServices,
  handler: (env: SeededEnvironment) => Promise<ApiAnswer>,
): Promise<ApiAnswer> {
  const started = performance.now();
  try {
    return await handler(authenticate(request, services));
  } catch (error) {
    if (ApiError.isInstance(error)) return error.toResponse();
    // A store that cannot be reached is an outage to come back after, not a bug.
    if (isDependencyUnavailable(error)) {
      return unavailable("the database is unavailable; nothing was written, retry later").toResponse();
    }
    console.error("api error", error);
    return Response.json({ error: "internal error", code: "INTERNAL" }, { status: 500 });
  } finally {
    services.stats.apiLatency(performance.now() - started);
  }
}
