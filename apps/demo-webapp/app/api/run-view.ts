import type { RunRecord } from "../engine/run-record";
import type { BufferEntryView } from "../mollifier/buffer-port";

/** What the API answers for a run, wherever it lives. */
export interface RunView {
  readonly id: string;
  readonly taskId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly payload: unknown;
  readonly tags: readonly string[];
  readonly metadata: unknown;
  readonly metadataVersion: number;
  readonly idempotencyKey: string | null;
  readonly delayUntil: string | null;
  readonly error: string | null;
  /** `database`, or `buffer` while the run waits to be written. */
  readonly location: "database" | "buffer";
  readonly queuePosition?: number;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function viewFromRecord(run: RunRecord): RunView {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    payload: run.payload,
    tags: run.tags,
    metadata: run.metadata ?? null,
    metadataVersion: run.metadataVersion,
    idempotencyKey: run.idempotencyKey ?? null,
    delayUntil: iso(run.delayUntil),
    error: run.error ?? null,
    location: "database",
  };
}

export function viewFromEntry(entry: BufferEntryView, now: number): RunView {
  const { snapshot, mutations } = entry;
  const delayUntil = mutations.delayUntil ?? snapshot.options.delayUntil;
  let metadata: unknown = snapshot.options.metadata ?? null;
  if (mutations.metadata !== undefined) {
    try {
      metadata = JSON.parse(mutations.metadata);
    } catch {
      metadata = mutations.metadata;
    }
  }
  return {
    id: snapshot.runId,
    taskId: snapshot.taskId,
    status: mutations.canceled
      ? "CANCELED"
      : delayUntil !== undefined && delayUntil > now
        ? "DELAYED"
        : "QUEUED",
    createdAt: new Date(snapshot.createdAt).toISOString(),
    payload: snapshot.payload,
    tags: [...new Set([...(snapshot.options.tags ?? []), ...mutations.tags])],
    metadata,
    metadataVersion: mutations.metadataVersion,
    idempotencyKey: mutations.idempotencyReset ? null : (snapshot.options.idempotencyKey ?? null),
    delayUntil: iso(delayUntil),
    error: null,
    location: "buffer",
    ...(entry.position !== undefined ? { queuePosition: entry.position } : {}),
  };
}
