import { findRun } from "./find-run.js";
import { requireIdempotencyRef } from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";
import type { IdempotencyRef, RunRecord } from "./run-store.js";
import { type RunView, runViewFromRecord } from "./run-view.js";

/** What {@link findIdempotentRun} answers. */
export type FindIdempotentRunResult =
  /** A run holds the key and the key has not expired: answer with this run. */
  | { outcome: "found"; run: RunView }
  /**
   * A run holds the key but the key has expired: trigger a new run, after
   * `resetIdempotencyKey` so the old run no longer holds it (the buffer would
   * otherwise answer the new trigger with the old run).
   */
  | { outcome: "expired"; run: RunView }
  | { outcome: "not_found" }
  /** The buffer could not be read and the database has no run with the key. */
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

function holdsKey(run: RunView | RunRecord, ref: IdempotencyRef): boolean {
  return (
    run.orgId === ref.orgId &&
    run.envId === ref.envId &&
    run.taskId === ref.taskId &&
    run.idempotencyKey === ref.idempotencyKey
  );
}

function withExpiry(run: RunView, now: number): FindIdempotentRunResult {
  const expiresAt = run.idempotencyKeyExpiresAt;
  return expiresAt !== undefined && expiresAt <= now
    ? { outcome: "expired", run }
    : { outcome: "found", run };
}

/**
 * The trigger-time idempotency lookup: finds the run holding (env, task, key)
 * whether it is buffered or in the database, and answers `expired` once the
 * key's `idempotencyKeyExpiresAt` has passed. Throws `INVALID_INPUT` for a
 * missing or empty id.
 */
export async function findIdempotentRun(
  context: ReadFallbackContext,
  request: IdempotencyRef,
): Promise<FindIdempotentRunResult> {
  const ref = requireIdempotencyRef(request);
  const { buffer, runStore, clock } = context;
  // Buffer index first, database second. The drainer inserts a run into the database before its
  // ack removes the index, so a run that leaves the index after we read it is already in the
  // database when we read that; the opposite order could miss a run moving between the two.
  let indexed: Awaited<ReturnType<typeof buffer.lookupIdempotency>> | undefined;
  let bufferError: unknown;
  try {
    indexed = await buffer.lookupIdempotency(ref);
  } catch (error) {
    bufferError = error;
    context.recorder.degraded({ component: "read_fallback", reason: "redis_error", error, ...tenantOf(ref) });
  }
  if (indexed?.outcome === "found") {
    const found = await findRun(context, { orgId: ref.orgId, envId: ref.envId, runId: indexed.runId });
    if (found.outcome === "found" && holdsKey(found.run, ref)) return withExpiry(found.run, clock());
  }
  const stored = await runStore.findRunByIdempotencyKey(ref);
  if (stored !== undefined && holdsKey(stored, ref)) return withExpiry(runViewFromRecord(stored), clock());
  if (bufferError !== undefined) return { outcome: "degraded", reason: "redis_error", error: bufferError };
  return { outcome: "not_found" };
}

function tenantOf(ref: IdempotencyRef): { orgId: string; envId: string } {
  return { orgId: ref.orgId, envId: ref.envId };
}
