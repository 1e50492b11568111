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
