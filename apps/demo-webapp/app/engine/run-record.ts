/** Statuses a run can have in this demo's database. */
export type RunStatus = "QUEUED" | "DELAYED" | "CANCELED" | "SYSTEM_FAILURE";

/** A run as stored in the database. */
export interface RunRecord {
  readonly id: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly status: RunStatus;
  readonly payload: unknown;
  readonly idempotencyKey: string | undefined;
  readonly idempotencyKeyExpiresAt: number | undefined;
  readonly tags: readonly string[];
  readonly metadata: unknown;
  readonly metadataVersion: number;
  readonly delayUntil: number | undefined;
  readonly parentRunId: string | undefined;
  readonly oneTimeUseToken: string | undefined;
  readonly error: string | undefined;
  /** `api`: written by the trigger request; `drainer`: materialised from the buffer. */
  readonly source: "api" | "drainer";
  readonly createdAt: number;
  readonly writtenAt: number;
}

/** What the engine needs to create a run; the id is minted before the gate runs. */
export type NewRun = Omit<RunRecord, "metadataVersion" | "writtenAt"> & { readonly metadataVersion?: number };

/** A `runs` row as the database driver answers it (snake_case columns). */
export type RunRow = Record<string, unknown>;

const optionalString = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;
const optionalNumber = (value: unknown): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);

/** The record of a `runs` row. */
export function toRecord(row: RunRow): RunRecord {
  return {
    id: String(row.id),
    orgId: String(row.org_id),
    envId: String(row.env_id),
    taskId: String(row.task_id),
    status: String(row.status) as RunStatus,
    payload: row.payload ?? null,
    idempotencyKey: optionalString(row.idempotency_key),
    idempotencyKeyExpiresAt: optionalNumber(row.idempotency_key_expires_at),
    tags: Array.isArray(row.tags) ? row.tags.map(String) : [],
    metadata: row.metadata ?? undefined,
    metadataVersion: Number(row.metadata_version ?? 0),
    delayUntil: optionalNumber(row.delay_until),
    parentRunId: optionalString(row.parent_run_id),
    oneTimeUseToken: optionalString(row.one_time_use_token),
    error: optionalString(row.error),
    source: row.source === "drainer" ? "drainer" : "api",
    createdAt: Number(row.created_at),
    writtenAt: Number(row.written_at),
  };
}

/** The record of a run just inserted from `run`, as {@link toRecord} would read its row back. */
export function createdRecord(run: NewRun, writtenAt: number): RunRecord {
  return {
    ...run,
    payload: run.payload ?? null,
    tags: [...run.tags],
    metadataVersion: run.metadataVersion ?? 0,
    writtenAt,
  };
}
