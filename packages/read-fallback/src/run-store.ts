/**
 * The database, as a port the application implements over its own run table.
 * Every method is asked with the tenant (org, env) as well as the run id, and
 * must filter by all of them: a run of another org or env is `not_found`.
 * This package never calls it with an empty or missing id.
 */

/** A run's status. Buffered runs are `QUEUED`, `DELAYED` or `CANCELED`; the database may hold any. */
export type RunStatus = "QUEUED" | "DELAYED" | "CANCELED" | (string & {});

/** One run of one tenant. */
export interface RunRef {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

/** One idempotency key of one task of one tenant. */
export interface IdempotencyRef {
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly idempotencyKey: string;
}

/** A run row as the store returns it. All times are epoch ms. */
export interface RunRecord {
  readonly id: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly status: RunStatus;
  readonly payload: unknown;
  readonly tags: readonly string[];
  /** JSON text. */
  readonly metadata?: string | undefined;
  /** Incremented by every successful `setMetadata`. */
  readonly metadataVersion: number;
  readonly idempotencyKey?: string | undefined;
  readonly idempotencyKeyExpiresAt?: number | undefined;
  readonly createdAt: number;
  readonly delayUntil?: number | undefined;
  readonly canceledAt?: number | undefined;
}

type NotFound = { outcome: "not_found" };

/** The store's answer to `cancelRun`. */
export type StoreCancelResult =
  | { outcome: "canceled"; at: number }
  | { outcome: "already_canceled"; at: number }
  /** The run is past the point where it can be canceled (e.g. completed). */
  | { outcome: "not_cancelable"; status: RunStatus }
  | NotFound;
/** The store's answer to `addTags` (tags: all the run's tags now). */
export type StoreAddTagsResult =
  | { outcome: "updated"; tags: readonly string[] }
  | { outcome: "too_many_tags"; limit: number }
  | NotFound;
/** The store's answer to `setMetadata` (`version`: the row's version now). */
export type StoreSetMetadataResult =
  | { outcome: "updated"; version: number }
  | { outcome: "version_conflict"; version: number }
  | NotFound;
/** The store's answer to `rescheduleRun`. */
export type StoreRescheduleResult =
  | { outcome: "updated"; delayUntil: number }
  /** Only a run that is still delayed can be rescheduled. */
  | { outcome: "not_delayed"; status: RunStatus }
  | NotFound;
/** The store's answer to `resetIdempotencyKey`. */
export type StoreResetIdempotencyResult = { outcome: "reset"; runIds: readonly string[] } | NotFound;

/** The run table. Implementations filter every query by org and env. */
export interface RunStore {
  findRun(ref: RunRef): Promise<RunRecord | undefined>;
  /** The run holding `idempotencyKey` for the task, whether or not the key has expired. */
  findRunByIdempotencyKey(ref: IdempotencyRef): Promise<RunRecord | undefined>;
  cancelRun(request: RunRef & { readonly reason: string; readonly at: number }): Promise<StoreCancelResult>;
  addTags(request: RunRef & { readonly tags: readonly string[] }): Promise<StoreAddTagsResult>;
  /** Compare-and-set: writes only when the row's `metadataVersion` equals `expectedVersion`. */
  setMetadata(
    request: RunRef & { readonly metadata: string; readonly expectedVersion: number },
  ): Promise<StoreSetMetadataResult>;
  rescheduleRun(request: RunRef & { readonly delayUntil: number }): Promise<StoreRescheduleResult>;
  /** Clears the key from the runs holding it, so the next trigger with it creates a new run. */
  resetIdempotencyKey(ref: IdempotencyRef): Promise<StoreResetIdempotencyResult>;
}
