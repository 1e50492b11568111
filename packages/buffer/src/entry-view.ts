import type { MutationFieldValues } from "./generated/entry-record.js";
import type { TriggerSnapshot } from "./snapshot.js";

/** Mutations applied to a buffered entry, stored as fields beside its snapshot. */
export interface EntryMutations {
  canceled?: { at: number; reason: string };
  /** Tags added after accept (deduplicated, capped). */
  tags: string[];
  /** Metadata JSON text set after accept. */
  metadata?: string;
  /** +1 per successful `setMetadata`; 0 when never set. */
  metadataVersion: number;
  /** Overrides the snapshot's `options.delayUntil`. */
  delayUntil?: number;
  /** True once the run's idempotency key was reset. */
  idempotencyReset: boolean;
}

/** An entry handed to a consumer by `lease`. Pass it back to `ack`, `extendLease`, `retry` or `fail`. */
export interface LeasedEntry<Payload = unknown> {
  orgId: string;
  envId: string;
  runId: string;
  /** Proves this lease; a stale holder's calls answer `lease_lost`. */
  leaseToken: string;
  /** Epoch ms (Redis `TIME`) after which the reaper may deliver the entry again. */
  leaseDeadline: number;
  /** Failed or expired deliveries before this one. */
  attempts: number;
  /** Epoch ms (Redis `TIME`) the entry was accepted. */
  acceptedAt: number;
  snapshot: TriggerSnapshot<Payload>;
  mutations: EntryMutations;
}

/** A buffered entry as reads see it. */
export interface BufferEntryView<Payload = unknown> {
  orgId: string;
  envId: string;
  runId: string;
  state: "queued" | "leased" | "retrying";
  attempts: number;
  acceptedAt: number;
  snapshot: TriggerSnapshot<Payload>;
  mutations: EntryMutations;
  /** 0-based place in the env queue; only for `queued` entries. */
  position?: number;
  /**
   * Epoch ms (Redis `TIME`) after which the reaper may deliver the entry again; only for `leased`
   * entries. The lease's holder is not recorded: its token is a secret of the holder.
   */
  leaseDeadline?: number;
}

/** Why an entry was failed. */
export type FailureKind = "terminal" | "attempts_exhausted" | "invalid_entry";

/** A FAILED record, kept `failedRetentionMs` after `fail`. */
export interface FailedEntryView<Payload = unknown> {
  orgId: string;
  envId: string;
  runId: string;
  /** The snapshot, when it still parses. */
  snapshot?: TriggerSnapshot<Payload>;
  /** The stored snapshot text, as it was. */
  rawSnapshot: string;
  error: string;
  kind: FailureKind;
  failedAt: number;
  attempts: number;
  acceptedAt: number;
  /** What callers did to the run while it was buffered (cancel, tags, metadata, delay, key reset). */
  mutations: EntryMutations;
}

function parseTags(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((tag): tag is string => typeof tag === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Builds {@link EntryMutations} from the stored mutation fields, as
 * `decodeMutationFields` (generated from `lua/entry-record.json`) reads them.
 */
export function toEntryMutations(fields: MutationFieldValues): EntryMutations {
  const mutations: EntryMutations = {
    tags: parseTags(fields.tags),
    metadataVersion: fields.metadataVersion ?? 0,
    idempotencyReset: fields.idempotencyReset,
  };
  if (fields.canceledAt !== undefined) {
    mutations.canceled = { at: fields.canceledAt, reason: fields.cancelReason ?? "" };
  }
  if (fields.metadata !== undefined) mutations.metadata = fields.metadata;
  if (fields.delayUntil !== undefined) mutations.delayUntil = fields.delayUntil;
  return mutations;
}
