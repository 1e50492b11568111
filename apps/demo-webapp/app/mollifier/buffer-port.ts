/**
 * The slice of `@mollifier/buffer`'s `MollifierBuffer` the app uses, with the
 * contract's names and shapes, so the real class satisfies it structurally.
 */

export interface SnapshotOptions {
  readonly idempotencyKey?: string;
  readonly idempotencyKeyExpiresAt?: number;
  readonly tags?: string[];
  readonly delayUntil?: number;
  readonly parentRunId?: string;
  readonly metadata?: unknown;
}

export interface TriggerSnapshot {
  readonly schemaVersion: 1;
  readonly runId: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly options: SnapshotOptions;
}

export type AcceptInput = Omit<TriggerSnapshot, "schemaVersion" | "createdAt"> & { createdAt?: number };

export type AcceptResult =
  | { outcome: "accepted"; runId: string; position: number }
  | { outcome: "duplicate_run"; runId: string }
  | { outcome: "duplicate_idempotency"; runId: string }
  | { outcome: "over_capacity"; scope: "env" | "org"; depth: number; limit: number };

export interface EntryMutations {
  readonly canceled?: { at: number; reason: string };
  readonly tags: string[];
  readonly metadata?: string;
  readonly metadataVersion: number;
  readonly delayUntil?: number;
  readonly idempotencyReset: boolean;
}

export interface BufferEntryView {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  readonly state: "queued" | "leased" | "retrying";
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly snapshot: TriggerSnapshot;
  readonly mutations: EntryMutations;
  readonly position?: number;
}

export interface LeasedEntry {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  readonly leaseToken: string;
  readonly leaseDeadline: number;
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly snapshot: TriggerSnapshot;
  readonly mutations: EntryMutations;
}

export interface EntryRef {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

export interface IdempotencyRef {
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly idempotencyKey: string;
}

type Busy = { outcome: "busy" };
type NotFound = { outcome: "not_found" };

export interface AppBuffer {
  accept(input: AcceptInput): Promise<AcceptResult>;
  getEntry(ref: EntryRef): Promise<BufferEntryView | undefined>;
  listEntries(input: {
    orgId: string;
    envId: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ entries: BufferEntryView[]; nextCursor?: string }>;
  depth(scope: { orgId: string; envId: string }): Promise<number>;
  stats(): Promise<{ depth: number; leasesInFlight: number; oldestEntryAgeMs: number }>;
  cancel(
    input: EntryRef & { reason: string },
  ): Promise<
    { outcome: "canceled"; at: number } | { outcome: "already_canceled"; at: number } | Busy | NotFound
  >;
  addTags(
    input: EntryRef & { tags: string[] },
  ): Promise<
    { outcome: "updated"; tags: string[] } | { outcome: "too_many_tags"; limit: number } | Busy | NotFound
  >;
  setMetadata(
    input: EntryRef & { metadata: string; expectedVersion: number },
  ): Promise<
    | { outcome: "updated"; version: number }
    | { outcome: "version_conflict"; version: number }
    | Busy
    | NotFound
  >;
  lookupIdempotency(ref: IdempotencyRef): Promise<{ outcome: "found"; runId: string } | NotFound>;
  resetIdempotency(ref: IdempotencyRef): Promise<{ outcome: "reset"; runId: string } | Busy | NotFound>;
}

/** What a drainer needs from the buffer (the `DrainSource` side). */
export interface DrainableBuffer extends AppBuffer {
  lease(input: {
    orgId: string;
    envId: string;
    count: number;
    leaseMs?: number;
  }): Promise<{ entries: LeasedEntry[]; invalid: Array<{ runId: string; error: string }> }>;
  ack(entry: LeasedEntry): Promise<{ outcome: "acked" } | { outcome: "lease_lost" }>;
  fail(
    entry: LeasedEntry,
    input: { error: string; kind?: "terminal" | "attempts_exhausted" },
  ): Promise<{ outcome: "failed" } | { outcome: "lease_lost" }>;
  retry(
    entry: LeasedEntry,
    input: { error: string },
  ): Promise<
    | { outcome: "scheduled"; dueAt: number; delayMs: number; attempts: number }
    | { outcome: "exhausted"; attempts: number }
    | { outcome: "lease_lost" }
  >;
  reapExpiredLeases(input?: { limit?: number }): Promise<{ reaped: number }>;
  /** Envs with entries ready to lease, as `{ orgId, envId }`. */
  readyEnvs(): Promise<Array<{ orgId: string; envId: string }>>;
}
