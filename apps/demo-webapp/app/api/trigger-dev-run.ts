import type { SeededEnvironment } from "../engine/seed.server";
import { metadataRecord } from "./metadata-operations";
import type { RunView } from "./run-view";

/** Statuses after which a run does not change again. */
const FINAL = new Set([
  "COMPLETED",
  "CANCELED",
  "FAILED",
  "CRASHED",
  "SYSTEM_FAILURE",
  "EXPIRED",
  "TIMED_OUT",
]);
const FAILED = new Set(["FAILED", "CRASHED", "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT"]);

/**
 * The fields trigger.dev's run objects share (`CommonRunFields` in
 * `@trigger.dev/core` v3): status flags, times, tags, metadata and costs. A
 * buffered run is a normal `QUEUED` (or `DELAYED`) run here; where it waits
 * travels in headers (see {@link bufferHeaders}). The demo executes nothing, so
 * costs and durations are 0, and `updatedAt` is `createdAt`; `finishedAt` of a
 * finished run is its cancel time where the store kept one, else `createdAt`.
 */
function commonRunFields(view: RunView) {
  const isCompleted = FINAL.has(view.status);
  return {
    id: view.id,
    status: view.status,
    taskIdentifier: view.taskId,
    ...(view.idempotencyKey !== null ? { idempotencyKey: view.idempotencyKey } : {}),
    isQueued: view.status === "QUEUED" || view.status === "DELAYED" || view.status === "PENDING_VERSION",
    isExecuting: false,
    isWaiting: false,
    isCompleted,
    isSuccess: view.status === "COMPLETED",
    isFailed: FAILED.has(view.status),
    isCancelled: view.status === "CANCELED",
    isTest: false,
    createdAt: view.createdAt,
    updatedAt: view.createdAt,
    ...(isCompleted ? { finishedAt: view.canceledAt ?? view.createdAt } : {}),
    ...(view.delayUntil !== null ? { delayedUntil: view.delayUntil } : {}),
    tags: [...view.tags],
    costInCents: 0,
    baseCostInCents: 0,
    durationMs: 0,
    ...(view.metadata !== null && view.metadata !== undefined
      ? { metadata: metadataRecord(view.metadata) }
      : {}),
  };
}

/** A run as trigger.dev's `GET /api/v3/runs/:id` answers it (`RetrieveRunResponse`). */
export function retrieveRunResponse(view: RunView) {
  return {
    ...commonRunFields(view),
    depth: 0,
    triggerFunction: "trigger" as const,
    payload: view.payload,
    ...(view.error !== null ? { error: { message: view.error, name: "Error" } } : {}),
    relatedRuns: {},
    attemptCount: 0,
  };
}

/** A run as an item of trigger.dev's `GET /api/v1/runs` (`ListRunResponseItem`). */
export function listRunItem(view: RunView, env: SeededEnvironment) {
  return { ...commonRunFields(view), env: { id: env.envId, name: env.envSlug } };
}

/** Headers that say where a buffered run waits: its queue position and when it is expected to start. */
export function bufferHeaders(view: {
  readonly queuePosition?: number;
  readonly estimatedStartAt?: string;
}): Record<string, string> {
  return {
    ...(view.queuePosition !== undefined ? { "x-mollifier-queue-position": String(view.queuePosition) } : {}),
    ...(view.estimatedStartAt !== undefined ? { "x-mollifier-estimated-start": view.estimatedStartAt } : {}),
  };
}
