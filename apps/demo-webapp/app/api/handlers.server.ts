import type { AppServices } from "../services.server";
import { ApiError } from "./api-error";
import { handleApi, readJson, validate } from "./request.server";
import {
  batchBodySchema,
  cancelBodySchema,
  metadataBodySchema,
  resetBodySchema,
  tagsBodySchema,
  triggerBodySchema,
} from "./trigger-schema";

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

export function triggerTask(request: Request, params: { taskId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const taskId = taskIdOf(params.taskId);
    const body = validate(triggerBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const { response } = await services.triggers.trigger(env, taskId, body);
    return Response.json(response, { status: response.isCached ? 200 : 201 });
  });
}

export function batchTrigger(request: Request, params: { taskId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const taskId = taskIdOf(params.taskId);
    const body = validate(batchBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const runs = [];
    for (const item of body.items) {
      const { response } = await services.triggers.trigger(env, taskId, item, { batch: true });
      runs.push(response);
    }
    return Response.json({ runs }, { status: 201 });
  });
}

export function retrieveRun(request: Request, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const view = await services.runs.find(env, required(params.runId, "runId"));
    if (!view) throw new ApiError(404, "run not found", "NOT_FOUND");
    return Response.json(view);
  });
}

export function cancelRun(request: Request, params: { runId?: string }, services: AppServices) {
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

export function addRunTags(request: Request, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(tagsBodySchema, await readJson(request, services.config.maxPayloadBytes));
    return Response.json(await services.runs.addTags(env, required(params.runId, "runId"), body.tags));
  });
}

export function setRunMetadata(request: Request, params: { runId?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(metadataBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const view = await services.runs.setMetadata(
      env,
      required(params.runId, "runId"),
      body.metadata,
      body.expectedVersion,
    );
    return Response.json(view);
  });
}

export function resetIdempotencyKey(request: Request, params: { key?: string }, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(resetBodySchema, await readJson(request, services.config.maxPayloadBytes));
    const result = await services.runs.resetIdempotencyKey(env, body.taskId, required(params.key, "key"));
    return Response.json({ ok: true, ...result });
  });
}

export function listBuffer(request: Request, services: AppServices) {
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
