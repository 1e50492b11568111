import { randomBytes } from "node:crypto";
import { z } from "zod/v4";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AppServices } from "../services.server";
import { ApiError, notFound } from "./api-error";
import type { ApiRequest } from "./api-request";
import { decodeTriggerBody, triggerBatchItem } from "./handlers.server";
import { handleApi, readJson, validate } from "./request.server";
import type { RunView } from "./run-view";
import { bufferHeaders, listRunItem, retrieveRunResponse } from "./trigger-dev-run";
import { BATCH_ITEMS_ROUTE } from "./trigger-routes";
import { MAX_BATCH_ITEMS, triggerOptionsSchema } from "./trigger-schema";

/**
 * The trigger.dev routes `@trigger.dev/sdk` 4.x calls, over the same services
 * as the demo's own routes: a run reads the same whether it is in the
 * database or in the buffer.
 */

const identifier = z.string().min(1).max(2_048);

function runIdOf(params: Record<string, string>): string {
  const runId = params.runId;
  if (runId === undefined || runId === "") throw new ApiError(422, "runId is required", "INVALID_OPTIONS");
  return runId;
}

/** `GET /api/v3/runs/:runId`: trigger.dev's run object; a buffered run adds its queue position in headers. */
export function retrieveRunV3(request: ApiRequest, params: Record<string, string>, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const view = await services.runs.find(env, runIdOf(params));
    if (!view) throw notFound();
    return Response.json(retrieveRunResponse(view), { headers: bufferHeaders(view) });
  });
}

/** `POST /api/v2/runs/:runId/cancel`: `{ id }`. */
export function cancelRunV2(request: ApiRequest, params: Record<string, string>, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const view = await services.runs.cancel(env, runIdOf(params), "canceled by API");
    return Response.json({ id: view.id });
  });
}

const resetBody = z.object({ taskIdentifier: z.string().min(1).max(256) }).strict();

/** `POST /api/v1/idempotencyKeys/:key/reset` with `{ taskIdentifier }`: `{ id: key }`; 404 when no run holds it. */
export function resetIdempotencyKeyV1(
  request: ApiRequest,
  params: Record<string, string>,
  services: AppServices,
) {
  return handleApi(request, services, async (env) => {
    const body = validate(resetBody, await readJson(request, services.config.maxPayloadBytes));
    const key = params.key ?? "";
    await services.runs.resetIdempotencyKey(env, body.taskIdentifier, key);
    return Response.json({ id: key });
  });
}

/** Page sizes of `GET /api/v1/runs`. */
export const DEFAULT_RUNS_PAGE_SIZE = 25;
export const MAX_RUNS_PAGE_SIZE = 100;
/** Buffered entries of one env a runs page looks at; runs queued behind them are listed once drained. */
export const MAX_BUFFERED_LISTED = 1_000;

interface Position {
  readonly createdAt: number;
  readonly id: string;
}

const before = (a: Position, b: Position) =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
const encodeCursor = (position: Position) =>
  Buffer.from(`${position.createdAt}:${position.id}`).toString("base64url");

function decodeCursor(text: string): Position {
  const [createdAt, ...rest] = Buffer.from(text, "base64url").toString().split(":");
  const position = { createdAt: Number(createdAt), id: rest.join(":") };
  if (!Number.isSafeInteger(position.createdAt) || position.id === "") {
    throw new ApiError(422, "page[after] is not a cursor this API gave", "INVALID_OPTIONS");
  }
  return position;
}

const listOf = (value: string | null) => (value === null || value === "" ? undefined : value.split(","));

/** Buffered runs of `env` as list positions (from the entries' snapshots; no run is read). */
async function bufferedPositions(
  env: SeededEnvironment,
  services: AppServices,
): Promise<Array<Position & { taskId: string }>> {
  const positions: Array<Position & { taskId: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await services.buffer.listEntries({
      orgId: env.orgId,
      envId: env.envId,
      limit: 500,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const entry of page.entries) {
      positions.push({ id: entry.runId, createdAt: entry.snapshot.createdAt, taskId: entry.snapshot.taskId });
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && positions.length < MAX_BUFFERED_LISTED);
  return positions;
}

/**
 * `GET /api/v1/runs`: this env's runs, newest first, from the database and the
 * buffer together (`page[size]`, `page[after]`; `filter[taskIdentifier]`,
 * `filter[status]`, `filter[tag]`). Status and tag filters apply within a page,
 * so a filtered page may hold fewer runs than its size; `pagination.next` is
 * there while more runs may follow.
 */
export function listRuns(request: ApiRequest, _params: Record<string, string>, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const query = new URL(request.url).searchParams;
    const size = Number(query.get("page[size]") ?? DEFAULT_RUNS_PAGE_SIZE);
    if (!Number.isInteger(size) || size < 1 || size > MAX_RUNS_PAGE_SIZE) {
      throw new ApiError(
        422,
        `page[size] must be an integer from 1 to ${MAX_RUNS_PAGE_SIZE}`,
        "INVALID_OPTIONS",
      );
    }
    const after = query.get("page[after]");
    const cursor = after === null ? undefined : decodeCursor(after);
    const taskIds = listOf(query.get("filter[taskIdentifier]"));
    const statuses = listOf(query.get("filter[status]"));
    const tags = listOf(query.get("filter[tag]"));

    const stored = await services.engine.listRunIds(env.envId, {
      ...(cursor ? { before: cursor } : {}),
      ...(taskIds ? { taskIds } : {}),
      limit: size + 1,
    });
    const buffered = (await bufferedPositions(env, services)).filter(
      (position) =>
        (cursor === undefined || before(position, cursor)) &&
        (taskIds === undefined || taskIds.includes(position.taskId)),
    );
    // A run being drained can be in both stores for a moment: list it once.
    const seen = new Set<string>();
    const candidates = [...stored, ...buffered]
      .sort((a, b) => (before(a, b) ? 1 : before(b, a) ? -1 : 0))
      .filter((position) => !seen.has(position.id) && seen.add(position.id));
    const page = candidates.slice(0, size);
    const views: RunView[] = [];
    for (const position of page) {
      const view = await services.runs.find(env, position.id);
      if (!view || view.id !== position.id) continue;
      if (statuses && !statuses.includes(view.status)) continue;
      if (tags && !tags.some((tag) => view.tags.includes(tag))) continue;
      views.push(view);
    }
    const last = page.at(-1);
    return Response.json({
      data: views.map((view) => listRunItem(view, env)),
      pagination: candidates.length > size && last ? { next: encodeCursor(last) } : {},
    });
  });
}

const createBatchBody = z
  .object({
    runCount: z.number().int().positive().max(MAX_BATCH_ITEMS),
    taskIdentifiers: z.array(z.string().min(1)).optional(),
    parentRunId: z.string().optional(),
    resumeParentOnCompletion: z.boolean().optional(),
    idempotencyKey: identifier.optional(),
    idempotencyKeyOptions: z.object({ key: z.string(), scope: z.string() }).optional(),
  })
  .strict();

interface BatchRow {
  id: string;
  env_id: string;
  run_count: number;
  idempotency_key: string | null;
  created_at: string | number;
}

/** `POST /api/v3/batches` (step one of a trigger.dev batch): a batch expecting `runCount` items. */
export function createBatch(request: ApiRequest, _params: Record<string, string>, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const body = validate(createBatchBody, await readJson(request, services.config.maxPayloadBytes));
    const { database } = services;
    const answer = (row: BatchRow, isCached: boolean) =>
      Response.json(
        {
          id: row.id,
          runCount: Number(row.run_count),
          isCached,
          ...(row.idempotency_key !== null ? { idempotencyKey: row.idempotency_key } : {}),
        },
        { status: isCached ? 200 : 201 },
      );
    const cached = async () =>
      body.idempotencyKey === undefined
        ? undefined
        : (
            await database.query<BatchRow & Record<string, unknown>>(
              "SELECT * FROM batches WHERE env_id = $1 AND idempotency_key = $2",
              [env.envId, body.idempotencyKey],
            )
          ).rows[0];
    const existing = await cached();
    if (existing) return answer(existing, true);
    const inserted = await database.query<BatchRow & Record<string, unknown>>(
      `INSERT INTO batches (id, env_id, run_count, idempotency_key, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *`,
      [
        `batch_${randomBytes(12).toString("hex")}`,
        env.envId,
        body.runCount,
        body.idempotencyKey ?? null,
        Date.now(),
      ],
    );
    const created = inserted.rows[0];
    if (created) return answer(created, false);
    // Another request created the batch with this key meanwhile.
    const winner = await cached();
    if (!winner) throw new ApiError(409, "the batch is being created; retry", "BUSY");
    return answer(winner, true);
  });
}

async function batchOf(env: SeededEnvironment, batchId: string, services: AppServices): Promise<BatchRow> {
  const found = await services.database.query<BatchRow & Record<string, unknown>>(
    "SELECT * FROM batches WHERE id = $1 AND env_id = $2",
    [batchId, env.envId],
  );
  const batch = found.rows[0];
  if (!batch) throw notFound("batch");
  return batch;
}

const batchItem = z
  .object({
    index: z.number().int().nonnegative(),
    task: z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, "task is invalid"),
    payload: z.unknown().optional(),
    options: triggerOptionsSchema.optional(),
  })
  .strict();

/**
 * `POST /api/v3/batches/:batchId/items` (step two): NDJSON items, each
 * triggered as a batch item (through the gate when `MOLLIFIER_BATCH_SUPPORT`
 * is on, else straight to the database). Items are kept by index, so a
 * retried stream triggers only the items not yet seen. Every line is checked
 * before any item is triggered: one invalid line answers 422 and triggers none.
 */
export function streamBatchItems(request: ApiRequest, params: Record<string, string>, services: AppServices) {
  // Tracing on: the request's span, with a child span per item (see triggerBatchItem).
  const trace = services.tracing?.startTrigger(request, BATCH_ITEMS_ROUTE);
  const answer = handleApi(request, services, async (env) => {
    const batch = await batchOf(env, params.batchId ?? "", services);
    const runCount = Number(batch.run_count);
    const limit = services.config.maxPayloadBytes * Math.min(runCount, MAX_BATCH_ITEMS);
    const text = await request.text();
    if (Buffer.byteLength(text) > limit) {
      throw new ApiError(413, `body is larger than ${limit} bytes`, "PAYLOAD_TOO_LARGE");
    }
    const items = text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line, lineIndex) => {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new ApiError(400, `line ${lineIndex + 1} is not valid JSON`, "MALFORMED_JSON");
        }
        const item = validate(batchItem, value);
        if (item.index >= runCount) {
          throw new ApiError(
            422,
            `index: ${item.index} is outside the batch of ${runCount}`,
            "INVALID_OPTIONS",
          );
        }
        return item;
      });
    const { database } = services;
    const known = new Set(
      (
        await database.query<{ item_index: number }>(
          "SELECT item_index FROM batch_items WHERE batch_id = $1",
          [batch.id],
        )
      ).rows.map((row) => Number(row.item_index)),
    );
    let itemsAccepted = 0;
    let itemsDeduplicated = 0;
    for (const item of items) {
      if (known.has(item.index)) {
        itemsDeduplicated++;
        continue;
      }
      known.add(item.index);
      const body = decodeTriggerBody({
        ...(item.payload !== undefined ? { payload: item.payload } : {}),
        ...(item.options !== undefined ? { options: item.options } : {}),
      });
      const { response } = await triggerBatchItem(services, trace, item.index, env, item.task, body);
      await database.query(
        `INSERT INTO batch_items (batch_id, item_index, run_id, task_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [batch.id, item.index, response.id, item.task],
      );
      itemsAccepted++;
    }
    const sealed = known.size >= runCount;
    return Response.json({
      id: batch.id,
      itemsAccepted,
      itemsDeduplicated,
      sealed,
      ...(sealed ? {} : { enqueuedCount: known.size, expectedCount: runCount }),
    });
  });
  return trace === undefined ? answer : trace.endWith(answer);
}

/** `GET /api/v2/batches/:batchId`: the batch and its run ids in item order. */
export function retrieveBatch(request: ApiRequest, params: Record<string, string>, services: AppServices) {
  return handleApi(request, services, async (env) => {
    const batch = await batchOf(env, params.batchId ?? "", services);
    const items = await services.database.query<{ run_id: string }>(
      "SELECT run_id FROM batch_items WHERE batch_id = $1 ORDER BY item_index",
      [batch.id],
    );
    const createdAt = new Date(Number(batch.created_at)).toISOString();
    const complete = items.rows.length >= Number(batch.run_count);
    return Response.json({
      id: batch.id,
      status: complete ? "COMPLETED" : "PENDING",
      ...(batch.idempotency_key !== null ? { idempotencyKey: batch.idempotency_key } : {}),
      createdAt,
      updatedAt: createdAt,
      runCount: Number(batch.run_count),
      runs: items.rows.map((row) => String(row.run_id)),
      processing: { ...(complete ? { completedAt: createdAt } : {}), errors: [] },
    });
  });
}
