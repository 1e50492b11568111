import type { AppServices } from "../services.server";
import type { ApiRequest } from "./api-request";
import {
  addRunTags,
  batchTrigger,
  cancelRun,
  listBuffer,
  resetIdempotencyKey,
  retrieveRun,
  setRunMetadata,
  triggerTask,
} from "./handlers.server";
import type { ApiAnswer } from "./json-response";
import { answerOnce } from "./request-idempotency.server";
import {
  cancelRunV2,
  createBatch,
  listRuns,
  resetIdempotencyKeyV1,
  retrieveBatch,
  retrieveRunV3,
  streamBatchItems,
} from "./sdk-handlers.server";
import { BATCH_ITEMS_ROUTE, BATCH_ROUTE, TRIGGER_ROUTE } from "./trigger-routes";

type Handler = (
  request: ApiRequest,
  params: Record<string, string>,
  services: AppServices,
) => Promise<ApiAnswer>;

/** One API route: a method, a path pattern with `:name` parameters, its handler. */
interface ApiRoute {
  readonly method: string;
  readonly path: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

function route(method: string, path: string, handler: Handler): ApiRoute {
  const names: string[] = [];
  const source = path.replace(/:(\w+)/g, (_match, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { method, path, pattern: new RegExp(`^${source}$`), names, handler };
}

/**
 * Every API route. The demo's own v1 routes and the trigger.dev routes the
 * official SDK calls (`@trigger.dev/sdk` 4.x) share one table; the server and
 * the tests dispatch through it, in the module graph of the services.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  route("POST", TRIGGER_ROUTE, triggerTask),
  route("POST", BATCH_ROUTE, batchTrigger),
  route("GET", "/api/v1/runs", listRuns),
  route("GET", "/api/v1/runs/:runId", retrieveRun),
  route("POST", "/api/v1/runs/:runId/cancel", cancelRun),
  route("POST", "/api/v1/runs/:runId/tags", addRunTags),
  route("PUT", "/api/v1/runs/:runId/metadata", setRunMetadata),
  route("POST", "/api/v1/idempotency-keys/:key/reset", resetIdempotencyKey),
  route("POST", "/api/v1/idempotencyKeys/:key/reset", resetIdempotencyKeyV1),
  route("GET", "/api/v1/buffer", (request, _params, services) => listBuffer(request, services)),
  route("GET", "/api/v3/runs/:runId", retrieveRunV3),
  route("POST", "/api/v2/runs/:runId/cancel", cancelRunV2),
  route("POST", "/api/v3/batches", createBatch),
  route("POST", BATCH_ITEMS_ROUTE, streamBatchItems),
  route("GET", "/api/v2/batches/:batchId", retrieveBatch),
];

const json404 = () => Response.json({ error: "no such API route", code: "NOT_FOUND" }, { status: 404 });

/**
 * Answers an `/api/*` request: the route's handler, a JSON 405 for a known
 * path with another method, a JSON 404 for an unknown path. A request with
 * `x-trigger-request-idempotency-key` gets the first answer to that key.
 */
export async function dispatchApi(request: ApiRequest, services: AppServices): Promise<ApiAnswer> {
  const path = new URL(request.url).pathname;
  let pathMatched = false;
  for (const candidate of API_ROUTES) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (candidate.method !== request.method) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1] ?? "");
    });
    return answerOnce(request, services, () => candidate.handler(request, params, services));
  }
  if (pathMatched) {
    return Response.json({ error: "method not allowed", code: "METHOD_NOT_ALLOWED" }, { status: 405 });
  }
  return json404();
}
