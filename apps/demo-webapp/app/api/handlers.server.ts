import type { SeededEnvironment } from "../engine/seed.server";
import type { TriggerTrace } from "../observability/trigger-tracing";
import type { AppServices } from "../services.server";
import { ApiError } from "./api-error";
import type { ApiRequest } from "./api-request";
import { JsonResponse } from "./json-response";
import { applyMetadataOperations, metadataRecord } from "./metadata-operations";
import { handleApi, readJson, validate } from "./request.server";
import { decodePacket } from "./sdk-payload";
import { bufferHeaders } from "./trigger-dev-run";
import { BATCH_ROUTE } from "./trigger-routes";
import {
  batchBodySchema,
  cancelBodySchema,
  metadataBodySchema,
  resetBodySchema,
  type TriggerBody,
  tagsBodySchema,
  triggerBodySchema,
} from "./trigger-schema";
import type { TriggerResult } from "./trigger-service.server";

/**
 * The API, framework-free: each handler takes the request, its path params
 * and the services, and answers a `Response`. Routes are one-line wrappers, and
 * tests call these directly.
 */

const TASK_ID = /^[A-Za-z0-9_.:/-]{1,128}$/;

function taskIdOf(value: string | undefined): string {
  if (value === undefined || !TASK_ID.test(value))
    throw new ApiError(422, "taskId is invalid", "INVALID_TASK");
  return value;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new ApiError(422, `${name} is required`, "INVALID_OPTIONS");
  return value;
}

export function triggerTask(request: ApiRequest, params: { taskId?: string }, services: AppServices) {
  // Tracing off (the default): no span, no trace object, the route runs as it always did.
  const trace = services.tracing?.startTrigger(request);
  const answer = handleApi(request, services, async (env) => {
    const taskId = taskIdOf(params.taskId);
    const body = decodeTriggerBody(
      validate(triggerBodySchema, await readJson(request, services.config.maxPayloadBytes)),
    );
    const result = await services.triggers.trigger(
      env,
      taskId,
      body,
      trace === undefined ? undefined : { trace },
    );
    trace?.recordOutcome(env, taskId, result);
    const { response } = result;
    return new JsonResponse(response, {
      status: response.isCached ? 200 : 201,
      headers: bufferHeaders({
        ...(response.queuePosition !== undefined
          ? {
              queuePosition: response.queuePosition,
              estimatedStartAt: estimatedStart(response.queuePosition, services),
            }
          : {}),
      }),
    });
  });
  return trace === undefined ? answer : trace.endWith(answer);
}

export function batchTrigger(request: ApiRequest, params: { taskId?: string }, services: AppServices) {
  // Tracing on: the request's span, with a child span per item (see triggerBatchItem).
  const trace = services.tracing?.startTrigger(request, BATCH_ROUTE);
  const answer = handleApi(request, services, async (env) => {
    const taskId = taskIdOf(params.taskId);
    const body = validate(batchBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const runs = [];
    for (const [index, item] of body.items.entries()) {
      const { response } = await triggerBatchItem(
        services,
        trace,
        index,
        env,
        taskId,
        decodeTriggerBody(item),
      );
      runs.push(response);
    }
    return Response.json({ runs }, { status: 201 });
  });
  return trace === undefined ? answer : trace.endWith(answer);
}

/** Triggers one item of a batch request; with tracing on, in its own child span of the request's. */
export function triggerBatchItem(
  services: AppServices,
  trace: TriggerTrace | undefined,
  index: number,
  env: SeededEnvironment,
  taskId: string,
  body: TriggerBody,
): Promise<TriggerResult> {
  if (trace === undefined) return services.triggers.trigger(env, taskId, body, { batch: true });
  return trace.item(index, env, taskId, (span) =>
    services.triggers.trigger(env, taskId, body, { batch: true, trace: span }),
  );
}

export function retrieveRun(request: ApiRequest, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const view = await services.runs.find(env, required(params.runId, "runId"));
    if (!view) throw new ApiError(404, "run not found", "NOT_FOUND");
    return Response.json(view, { headers: bufferHeaders(view) });
  });
}

export function cancelRun(request: ApiRequest, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(cancelBodySchema, await readJson(request, services.config.maxPayloadBytes, true));
    const view = await services.runs.cancel(
      env,
      required(params.runId, "runId"),
      body.reason ?? "canceled by API",
    );
    return Response.json(view);
  });
}

export function addRunTags(request: ApiRequest, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(tagsBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const view = await services.runs.addTags(env, required(params.runId, "runId"), body.tags);
    // `message` is what trigger.dev's SDK reads; the run follows for the demo's own callers.
    return Response.json({ message: `Successfully set ${body.tags.length} new tags.`, ...view });
  });
}

export function setRunMetadata(request: ApiRequest, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(metadataBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const { metadata, operations } = body;
    const next = (current: unknown) => {
      const start = metadata === undefined ? current : metadata;
      return operations === undefined ? start : applyMetadataOperations(start, operations);
    };
    const view = await services.runs.setMetadata(
      env,
      required(params.runId, "runId"),
      next,
      body.expectedVersion,
    );
    // trigger.dev's SDK (which sends operations) reads `{ metadata }` as an object; the demo's
    // own form answers the run.
    return Response.json(operations === undefined ? view : { metadata: metadataRecord(view.metadata) });
  });
}

/** The body with trigger.dev's packets (`payloadType`, `metadataType`) decoded into the values stored. */
export function decodeTriggerBody(body: TriggerBody): TriggerBody {
  const options = body.options;
  if (options?.payloadType === undefined && options?.metadataType === undefined) return body;
  return {
    ...body,
    payload: decodePacket(body.payload, options.payloadType, "payload"),
    options: {
      ...options,
      ...(options.metadata !== undefined
        ? { metadata: decodePacket(options.metadata, options.metadataType, "options.metadata") }
        : {}),
    },
  };
}

/** When a run at `queuePosition` is expected to be written, at the configured drain rate. */
export function estimatedStart(queuePosition: number, services: AppServices): string {
  const rate = Math.max(1, services.config.drainRatePerSecond);
  return new Date(Date.now() + Math.ceil(((queuePosition + 1) / rate) * 1_000)).toISOString();
}

export function resetIdempotencyKey(request: ApiRequest, params: { key?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(resetBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const result = await services.runs.resetIdempotencyKey(env, body.taskId, required(params.key, "key"));
    return Response.json({ ok: true, ...result });
  });
}

export function listBuffer(request: ApiRequest, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const url = new URL(request.url);
    const limit = Number(url.searchParams.get("limit") ?? "50");
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new ApiError(422, "limit must be an integer from 1 to 500", "INVALID_OPTIONS");
    }
    const cursor = url.searchParams.get("cursor") ?? undefined;
    return Response.json(await services.runs.listBuffered(env, cursor, limit));
  });
}

export function methodNotAllowed(): Response {
  return Response.json({ error: "method not allowed", code: "METHOD_NOT_ALLOWED" }, { status: 405 });
}
