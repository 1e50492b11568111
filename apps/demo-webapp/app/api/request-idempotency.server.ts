import type { AppServices } from "../services.server";
import type { ApiRequest } from "./api-request";
import type { ApiAnswer } from "./json-response";

/** The header trigger.dev's SDK sends with the same value on every retry of one request. */
export const REQUEST_IDEMPOTENCY_HEADER = "x-trigger-request-idempotency-key";

/** How long a request's answer is kept for its retries, ms. */
export const REQUEST_ANSWER_TTL_MS = 24 * 3_600_000;

/** Answer headers worth replaying (content type and the demo's own). */
const REPLAYED_HEADERS = /^(content-type|location|retry-after|x-mollifier-.*)$/i;

const MAX_KEY_LENGTH = 256;

function envOf(request: ApiRequest, services: AppServices): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1] ? services.apiKeys.get(match[1])?.envId : undefined;
}

/**
 * Request idempotency: a mutating request carrying {@link REQUEST_IDEMPOTENCY_HEADER}
 * gets the answer the first request with that key (in its environment) got,
 * without running again. Answers are kept in the database for
 * {@link REQUEST_ANSWER_TTL_MS}; a 5xx is not kept (the SDK retries it, and the
 * retry must run). Keeping is best effort: a database that cannot store the
 * answer does not fail a request that succeeded.
 */
export async function answerOnce(
  request: ApiRequest,
  services: AppServices,
  handle: () => Promise<ApiAnswer>,
): Promise<ApiAnswer> {
  const key = request.headers.get(REQUEST_IDEMPOTENCY_HEADER);
  if (request.method === "GET" || key === null || key === "" || key.length > MAX_KEY_LENGTH) return handle();
  const envId = envOf(request, services);
  if (envId === undefined) return handle();
  const { database } = services;
  const now = Date.now();
  let stored: { status: number; body: string; headers: string } | undefined;
  try {
    const found = await database.query<{ status: number; body: string; headers: string }>(
      "SELECT status, body, headers FROM request_answers WHERE env_id = $1 AND key = $2 AND expires_at > $3",
      [envId, key, now],
    );
    stored = found.rows[0];
  } catch {
    // The database is down: the handler answers (503 where it needs the database).
  }
  if (stored) {
    const headers = new Headers(JSON.parse(stored.headers) as Record<string, string>);
    headers.set("x-mollifier-replayed", "true");
    return new Response(stored.body, { status: Number(stored.status), headers });
  }
  const response = await handle();
  if (response.status >= 500) return response;
  const body = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (REPLAYED_HEADERS.test(name)) headers[name] = value;
  });
  try {
    await database.query(
      `INSERT INTO request_answers (env_id, key, status, body, headers, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (env_id, key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body,
         headers = EXCLUDED.headers, expires_at = EXCLUDED.expires_at
       WHERE request_answers.expires_at <= $7`,
      [envId, key, response.status, body, JSON.stringify(headers), now + REQUEST_ANSWER_TTL_MS, now],
    );
  } catch {
    // Best effort, see above.
  }
  return new Response(body, { status: response.status, headers: response.headers });
}
