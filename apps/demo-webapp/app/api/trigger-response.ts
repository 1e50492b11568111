import type { RunView as FallbackRunView } from "@mollifier/read-fallback";
import { initialRunStatus } from "../engine/initial-run-status";
import type { RunRecord } from "../engine/run-record";
import type { PendingRun } from "./trigger-request";

/** What a trigger answers. A mollified trigger adds `notice` and `queuePosition`. */
export interface TriggerResponse {
  readonly id: string;
  readonly taskId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly tags: readonly string[];
  readonly idempotencyKey: string | null;
  readonly isCached: boolean;
  readonly notice?: string;
  readonly queuePosition?: number;
}

export const MOLLIFIED_NOTICE =
  "Accepted into the burst buffer: the run is queued and will be written to the database shortly. " +
  "It can be read, cancelled and tagged meanwhile.";

/** The answer for a run stored in the database. */
export function responseFromRecord(run: RunRecord, isCached: boolean): TriggerResponse {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    tags: run.tags,
    idempotencyKey: run.idempotencyKey ?? null,
    isCached,
  };
}

/** The answer for a run found by the read fallback, in the database or in the buffer. */
export function responseFromView(run: FallbackRunView, isCached: boolean): TriggerResponse {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    tags: run.tags,
    idempotencyKey: run.idempotencyKey ?? null,
    isCached,
    ...(run.source === "buffer"
      ? {
          notice: MOLLIFIED_NOTICE,
          ...(run.queuePosition !== undefined ? { queuePosition: run.queuePosition } : {}),
        }
      : {}),
  };
}

/** The answer for a run just accepted into the buffer, as a stored run would read: no extra read on the hot path. */
export function responseFromAccepted(run: PendingRun, queuePosition: number, now: number): TriggerResponse {
  return {
    id: run.runId,
    taskId: run.taskId,
    status: initialRunStatus(run.options.delayUntil, now),
    createdAt: new Date(run.createdAt).toISOString(),
    tags: run.options.tags ?? [],
    idempotencyKey: run.options.idempotencyKey ?? null,
    isCached: false,
    notice: MOLLIFIED_NOTICE,
    queuePosition,
  };
}
