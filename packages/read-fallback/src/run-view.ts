import type { BufferedEntry } from "./read-fallback-buffer.js";
import type { RunRecord, RunStatus } from "./run-store.js";

/** Where a run was read from. */
export type RunSource = "database" | "buffer";

/**
 * One run, wherever it is. Buffered runs are `QUEUED`, `DELAYED` (their
 * `delayUntil` is in the future) or `CANCELED`. All times are epoch ms.
 */
export interface RunView {
  readonly id: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly status: RunStatus;
  readonly payload: unknown;
  readonly tags: readonly string[];
  /** JSON text, or `undefined` when the run has none. */
  readonly metadata: string | undefined;
  /** The version a metadata compare-and-set must name. */
  readonly metadataVersion: number;
  readonly idempotencyKey: string | undefined;
  readonly idempotencyKeyExpiresAt: number | undefined;
  readonly createdAt: number;
  readonly delayUntil: number | undefined;
  readonly canceledAt: number | undefined;
  readonly source: RunSource;
  /** Buffered and waiting: 0-based position in its env queue. */
  readonly queuePosition?: number;
  /** Buffered and waiting: when the drainer is expected to write it to the database. */
  readonly estimatedStartAt?: number;
}

/** A run row as a {@link RunView}. */
export function runViewFromRecord(record: RunRecord): RunView {
  return {
    id: record.id,
    orgId: record.orgId,
    envId: record.envId,
    taskId: record.taskId,
    status: record.status,
    payload: record.payload,
    tags: record.tags,
    metadata: record.metadata,
    metadataVersion: record.metadataVersion,
    idempotencyKey: record.idempotencyKey,
    idempotencyKeyExpiresAt: finiteTime(record.idempotencyKeyExpiresAt),
    createdAt: record.createdAt,
    delayUntil: finiteTime(record.delayUntil),
    canceledAt: finiteTime(record.canceledAt),
    source: "database",
  };
}

/**
 * A buffered entry as a {@link RunView}: `CANCELED` once canceled, `DELAYED`
 * while its delay (a reschedule wins over the trigger's) is in the future,
 * else `QUEUED` (also while leased or waiting to retry). `drainRatePerSecond`
 * gives the ETA of a queued entry from its position.
 */
export function runViewFromEntry(
  entry: BufferedEntry,
  now: number,
  drainRatePerSecond: number | undefined,
): RunView {
  const { snapshot, mutations } = entry;
  const canceledAt = finiteTime(mutations.canceled?.at);
  const delayUntil = finiteTime(mutations.delayUntil) ?? finiteTime(snapshot.options.delayUntil);
  const status: RunStatus =
    canceledAt !== undefined
      ? "CANCELED"
      : delayUntil !== undefined && delayUntil > now
        ? "DELAYED"
        : "QUEUED";
  const position =
    typeof entry.position === "number" && Number.isInteger(entry.position) && entry.position >= 0
      ? entry.position
      : undefined;
  const view: RunView = {
    id: entry.runId,
    orgId: entry.orgId,
    envId: entry.envId,
    taskId: snapshot.taskId,
    status,
    payload: snapshot.payload,
    tags: [...new Set([...(snapshot.options.tags ?? []), ...mutations.tags])],
    metadata: mutations.metadata ?? initialMetadata(snapshot.options.metadata),
    metadataVersion: mutations.metadataVersion,
    idempotencyKey: mutations.idempotencyReset ? undefined : snapshot.options.idempotencyKey,
    idempotencyKeyExpiresAt: mutations.idempotencyReset
      ? undefined
      : finiteTime(snapshot.options.idempotencyKeyExpiresAt),
    createdAt: snapshot.createdAt,
    delayUntil,
    canceledAt,
    source: "buffer",
  };
  if (position === undefined || status === "CANCELED") return view;
  const eta =
    drainRatePerSecond !== undefined && Number.isFinite(drainRatePerSecond) && drainRatePerSecond > 0
      ? now + Math.ceil(((position + 1) / drainRatePerSecond) * 1_000)
      : undefined;
  return eta === undefined
    ? { ...view, queuePosition: position }
    : { ...view, queuePosition: position, estimatedStartAt: eta };
}

// An invalid time (NaN, a string) must read as "absent", never as set.
function finiteTime(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function initialMetadata(metadata: unknown): string | undefined {
  return metadata === undefined ? undefined : JSON.stringify(metadata);
}
