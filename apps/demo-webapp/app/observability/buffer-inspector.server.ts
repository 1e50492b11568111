import type { BufferEntryView, FailedEntryView } from "@mollifier/buffer";
import type { SeededEnvironment } from "../engine/seed.server";
import { runFromEntry } from "../mollifier/materialise.server";
import type { AppServices } from "../services.server";

/** Largest page of the inspector's lists. */
export const MAX_INSPECTOR_PAGE = 100;
/** Default page of the inspector's lists. */
export const DEFAULT_INSPECTOR_PAGE = 25;

/** One buffered run as the inspector lists and opens it. */
export interface InspectedEntry {
  readonly runId: string;
  readonly taskId: string;
  readonly state: BufferEntryView["state"];
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly position: number | null;
  /**
   * When a leased entry's lease runs out (epoch ms, Redis `TIME`): a drainer holds it until then,
   * and the reaper may deliver it again after. `null` unless leased. The holder is not recorded.
   */
  readonly leaseDeadline: number | null;
  readonly snapshot: BufferEntryView["snapshot"];
  readonly mutations: BufferEntryView["mutations"];
}

/** Longest excerpt of an unreadable snapshot's stored text the inspector shows. */
export const UNREADABLE_EXCERPT_CHARS = 240;

/** One FAILED record as the inspector lists it. */
export interface InspectedFailure {
  readonly runId: string;
  /** The snapshot's task; for an unreadable snapshot, its `taskId` if the text is JSON that names one. */
  readonly taskId: string | null;
  readonly kind: FailedEntryView["kind"];
  readonly error: string;
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly failedAt: number;
  /** Whether the snapshot still parses: only then can it be replayed. */
  readonly replayable: boolean;
  /** Why the stored snapshot cannot be read, and the start of its text; `null` when it reads. */
  readonly unreadable: { readonly error: string; readonly excerpt: string } | null;
}

/** What a replay did. */
export type ReplayResult =
  | { readonly outcome: "replayed"; readonly runId: string; readonly position: number }
  /** The run was already back in the buffer (a replay retried): nothing more was done. */
  | { readonly outcome: "already_buffered"; readonly runId: string }
  | { readonly outcome: "not_found" }
  | { readonly outcome: "unreadable"; readonly error: string }
  | { readonly outcome: "refused"; readonly reason: string };

/**
 * The environment an API key opens, or `undefined`. Every inspector read and action is scoped to
 * it: a run id of another tenant is simply not found.
 */
export function inspectorTenant(
  services: AppServices,
  apiKey: string | null | undefined,
): SeededEnvironment | undefined {
  if (!apiKey) return undefined;
  return services.apiKeys.get(apiKey);
}

function inspected(entry: BufferEntryView): InspectedEntry {
  return {
    runId: entry.runId,
    taskId: entry.snapshot.taskId,
    state: entry.state,
    attempts: entry.attempts,
    acceptedAt: entry.acceptedAt,
    position: entry.position ?? null,
    leaseDeadline: entry.leaseDeadline ?? null,
    snapshot: entry.snapshot,
    mutations: entry.mutations,
  };
}

function pageSize(limit: number | undefined): number {
  const size = Math.floor(limit ?? DEFAULT_INSPECTOR_PAGE);
  return Number.isFinite(size) ? Math.min(MAX_INSPECTOR_PAGE, Math.max(1, size)) : DEFAULT_INSPECTOR_PAGE;
}

/** The env's queued runs, oldest (next to drain) first, a page at a time. */
export async function listBufferedRuns(
  services: AppServices,
  tenant: SeededEnvironment,
  options: { cursor?: string; limit?: number } = {},
): Promise<{ entries: InspectedEntry[]; nextCursor: string | null }> {
  const page = await services.buffer.listEntries({
    orgId: tenant.orgId,
    envId: tenant.envId,
    limit: pageSize(options.limit),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return { entries: page.entries.map(inspected), nextCursor: page.nextCursor ?? null };
}

/** One buffered run of the env (snapshot, mutations, attempts, state), or `undefined`. */
export async function openBufferedRun(
  services: AppServices,
  tenant: SeededEnvironment,
  runId: string,
): Promise<InspectedEntry | undefined> {
  const entry = await services.buffer.getEntry({ orgId: tenant.orgId, envId: tenant.envId, runId });
  return entry === undefined ? undefined : inspected(entry);
}

/** Cancels a run of the env wherever it is, as the API's cancel does. */
export async function cancelBufferedRun(
  services: AppServices,
  tenant: SeededEnvironment,
  runId: string,
  reason: string,
): Promise<{ status: string }> {
  const view = await services.runs.cancel(tenant, runId, reason);
  return { status: view.status };
}

/**
 * Why a stored snapshot that does not parse cannot be read, and what of it can: an `invalid_entry`
 * failure's error is the buffer's own decode error; otherwise the text is checked for JSON here.
 */
function unreadableFacts(record: FailedEntryView): { taskId: string | null; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(record.rawSnapshot);
  } catch (error) {
    return {
      taskId: null,
      error:
        record.kind === "invalid_entry"
          ? record.error
          : `stored snapshot is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const taskId =
    typeof json === "object" && json !== null && "taskId" in json && typeof json.taskId === "string"
      ? json.taskId
      : null;
  return {
    taskId,
    error:
      record.kind === "invalid_entry" ? record.error : "stored snapshot does not match the snapshot schema",
  };
}

function inspectedFailure(record: FailedEntryView): InspectedFailure {
  const common = {
    runId: record.runId,
    kind: record.kind,
    error: record.error,
    attempts: record.attempts,
    acceptedAt: record.acceptedAt,
    failedAt: record.failedAt,
  };
  if (record.snapshot !== undefined) {
    return { ...common, taskId: record.snapshot.taskId, replayable: true, unreadable: null };
  }
  const facts = unreadableFacts(record);
  return {
    ...common,
    taskId: facts.taskId,
    replayable: false,
    unreadable: { error: facts.error, excerpt: record.rawSnapshot.slice(0, UNREADABLE_EXCERPT_CHARS) },
  };
}

/**
 * The env's FAILED records that are still retained, newest failure first, readable or not (the
 * buffer's `listFailed`); an entry whose snapshot cannot be read is listed with its decode error
 * and the start of its stored text, for discarding.
 */
export async function listFailedRuns(
  services: AppServices,
  tenant: SeededEnvironment,
  options: { limit?: number } = {},
): Promise<InspectedFailure[]> {
  const { entries } = await services.buffer.listFailed({
    orgId: tenant.orgId,
    envId: tenant.envId,
    limit: pageSize(options.limit),
  });
  return entries.map(inspectedFailure);
}

/**
 * Replays a FAILED entry: the same snapshot is accepted again under the same run id, so the drainer
 * writes it once more, with what callers did to the run while it was buffered (its tags, metadata
 * and delay are set again; a key reset leaves the key off). A run canceled while buffered is not
 * replayed. Order matters for exactly-once: the failure row goes first (a drain of the replayed
 * entry must not meet it and ack as a duplicate), then the accept, then the FAILED record.
 * A replay interrupted or repeated is safe: the record stays until the accept succeeded, an accept
 * of a run still buffered is a duplicate, and the database keys runs by id.
 */
export async function replayFailedRun(
  services: AppServices,
  tenant: SeededEnvironment,
  runId: string,
): Promise<ReplayResult> {
  const address = { orgId: tenant.orgId, envId: tenant.envId, runId };
  const failed = await services.buffer.getFailed(address);
  if (failed === undefined) return { outcome: "not_found" };
  if (failed.snapshot === undefined) return { outcome: "unreadable", error: failed.error };
  const { mutations } = failed;
  if (mutations.canceled !== undefined) {
    return { outcome: "refused", reason: "the run was canceled while it was buffered" };
  }
  await services.database.query(
    `DELETE FROM runs WHERE id = $1 AND env_id = $2 AND status = 'SYSTEM_FAILURE' AND source = 'drainer'`,
    [runId, tenant.envId],
  );
  const {
    idempotencyKey: _reset,
    idempotencyKeyExpiresAt: _resetExpiry,
    ...withoutKey
  } = failed.snapshot.options;
  const accepted = await services.buffer.accept(
    mutations.idempotencyReset ? { ...failed.snapshot, options: withoutKey } : failed.snapshot,
  );
  if (accepted.outcome === "duplicate_idempotency" || accepted.outcome === "over_capacity") {
    // Not replayed: the run stays failed, with its row back as the failure hook wrote it.
    await services.engine.createRun({
      ...runFromEntry({ snapshot: failed.snapshot }, Date.now),
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error: failed.error,
    });
    return {
      outcome: "refused",
      reason:
        accepted.outcome === "over_capacity"
          ? "the buffer is at capacity"
          : `run ${accepted.runId} holds its idempotency key now`,
    };
  }
  if (accepted.outcome === "accepted") await reapplyMutations(services, address, mutations);
  await services.buffer.discardFailed(address);
  return accepted.outcome === "accepted"
    ? { outcome: "replayed", runId, position: accepted.position }
    : { outcome: "already_buffered", runId };
}

/** Sets a replayed entry's tags, metadata and delay as the failed one had them. */
async function reapplyMutations(
  services: AppServices,
  address: { readonly orgId: string; readonly envId: string; readonly runId: string },
  mutations: FailedEntryView["mutations"],
): Promise<void> {
  if (mutations.tags.length > 0) await services.buffer.addTags({ ...address, tags: mutations.tags });
  if (mutations.metadata !== undefined) {
    await services.buffer.setMetadata({ ...address, metadata: mutations.metadata, expectedVersion: 0 });
  }
  if (mutations.delayUntil !== undefined) {
    await services.buffer.setDelay({ ...address, delayUntil: mutations.delayUntil });
  }
}

/** Discards a FAILED entry: the run stays failed, its record leaves the inspector. */
export async function discardFailedRun(
  services: AppServices,
  tenant: SeededEnvironment,
  runId: string,
): Promise<{ outcome: "discarded" | "not_found" }> {
  return services.buffer.discardFailed({ orgId: tenant.orgId, envId: tenant.envId, runId });
}
