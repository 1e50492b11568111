import type { RunView as FallbackRunView } from "@mollifier/read-fallback";

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
  /** When a cancel reached the run, where the store keeps it (the buffer does; the demo's table does not). */
  readonly canceledAt: string | null;
  readonly error: string | null;
  /** `database`, or `buffer` while the run waits to be written. */
  readonly location: "database" | "buffer";
  readonly queuePosition?: number;
  /** While buffered: when the drainer is expected to write it. */
  readonly estimatedStartAt?: string;
  /**
   * The id that was asked for, when it is not this run's: a buffered run that met its
   * idempotency key already held when it drained is the run holding the key (docs/adr/0008).
   */
  readonly resolvedFromRunId?: string;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function parseMetadata(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The API's view of a run found by the read fallback; `error` comes from the database row when there is one. */
export function toRunView(run: FallbackRunView, error?: string): RunView {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    payload: run.payload,
    tags: run.tags,
    metadata: parseMetadata(run.metadata),
    metadataVersion: run.metadataVersion,
    idempotencyKey: run.idempotencyKey ?? null,
    delayUntil: iso(run.delayUntil),
    canceledAt: iso(run.canceledAt),
    error: error ?? null,
    location: run.source,
    ...(run.queuePosition !== undefined ? { queuePosition: run.queuePosition } : {}),
    ...(run.estimatedStartAt !== undefined
      ? { estimatedStartAt: new Date(run.estimatedStartAt).toISOString() }
      : {}),
  };
}
