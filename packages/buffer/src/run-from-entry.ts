import type { EntryMutations, LeasedEntry } from "./entry-view.js";

/** The status a buffered run has when it is written to the database. */
export type BufferedRunStatus = "QUEUED" | "DELAYED" | "CANCELED";

/**
 * The run row a buffered entry becomes, with every mutation made while it was
 * buffered applied. Metadata is JSON text, as in the mutations and in
 * `@mollifier/read-fallback`'s `RunRecord`: one representation after accept.
 */
export interface BufferedRunRecord {
  readonly id: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  /** `CANCELED` when canceled while buffered; `DELAYED` while `delayUntil` is ahead; else `QUEUED`. */
  readonly status: BufferedRunStatus;
  readonly payload: unknown;
  /** The snapshot's tags, then the tags added while buffered, without duplicates. */
  readonly tags: readonly string[];
  /** JSON text: the metadata set while buffered, else the snapshot's, stringified. */
  readonly metadata: string | undefined;
  /** Incremented by every metadata update while buffered; 0 when never updated. */
  readonly metadataVersion: number;
  /** Cleared when the key was reset while buffered. */
  readonly idempotencyKey: string | undefined;
  readonly idempotencyKeyExpiresAt: number | undefined;
  /** The rescheduled time when the run was rescheduled while buffered, else the snapshot's. */
  readonly delayUntil: number | undefined;
  readonly canceledAt: number | undefined;
  readonly cancelReason: string | undefined;
  readonly parentRunId: string | undefined;
  readonly createdAt: number;
}

const NO_MUTATIONS: EntryMutations = { tags: [], metadataVersion: 0, idempotencyReset: false };

/**
 * Maps a leased (or failed) entry to the run row the drainer's handler writes,
 * so every application applies the buffered mutations the same way. A failed
 * entry whose mutations could not be read maps from its snapshot alone.
 *
 * @example
 * handler: async (entry) => db.insertRunIfAbsent(runFromEntry(entry, { now: Date.now() })),
 */
export function runFromEntry(
  entry: Pick<LeasedEntry, "snapshot"> & { readonly mutations?: EntryMutations | undefined },
  options: { readonly now: number },
): BufferedRunRecord {
  const { snapshot } = entry;
  const mutations = entry.mutations ?? NO_MUTATIONS;
  const delayUntil = mutations.delayUntil ?? snapshot.options.delayUntil;
  const status: BufferedRunStatus = mutations.canceled
    ? "CANCELED"
    : delayUntil !== undefined && delayUntil > options.now
      ? "DELAYED"
      : "QUEUED";
  const snapshotMetadata = snapshot.options.metadata;
  return {
    id: snapshot.runId,
    orgId: snapshot.orgId,
    envId: snapshot.envId,
    taskId: snapshot.taskId,
    status,
    payload: snapshot.payload,
    tags: [...new Set([...(snapshot.options.tags ?? []), ...mutations.tags])],
    metadata:
      mutations.metadata ?? (snapshotMetadata === undefined ? undefined : JSON.stringify(snapshotMetadata)),
    metadataVersion: mutations.metadataVersion,
    idempotencyKey: mutations.idempotencyReset ? undefined : snapshot.options.idempotencyKey,
    idempotencyKeyExpiresAt: mutations.idempotencyReset
      ? undefined
      : snapshot.options.idempotencyKeyExpiresAt,
    delayUntil,
    canceledAt: mutations.canceled?.at,
    cancelReason: mutations.canceled?.reason,
    parentRunId: snapshot.options.parentRunId,
    createdAt: snapshot.createdAt,
  };
}
