import type { BufferedEntry } from "./read-fallback-buffer.js";
import { requireRunRef } from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";
import type { RunRecord, RunRef } from "./run-store.js";
import { type RunView, runViewFromEntry, runViewFromRecord } from "./run-view.js";

/** What {@link findRun} answers. */
export type FindRunResult =
  | { outcome: "found"; run: RunView }
  /** No such run for this org and env (a run of another tenant is `not_found` too). */
  | { outcome: "not_found" }
  /** The database does not have the run and the buffer could not be read. */
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/** True when `record` is the run `ref` names, of the tenant it names. */
export function recordMatches(record: RunRecord | undefined, ref: RunRef): record is RunRecord {
  // A store that ignored a filter must not hand another tenant's run out.
  return (
    record !== undefined &&
    record.id === ref.runId &&
    record.orgId === ref.orgId &&
    record.envId === ref.envId
  );
}

/** True when `entry` is the run `ref` names, of the tenant it names. */
export function entryMatches(entry: BufferedEntry | undefined, ref: RunRef): entry is BufferedEntry {
  return (
    entry !== undefined && entry.runId === ref.runId && entry.orgId === ref.orgId && entry.envId === ref.envId
  );
}

/** A buffered entry as a view, with the ETA from the injected drain rate. */
export function bufferedRunView(context: ReadFallbackContext, entry: BufferedEntry): RunView {
  let rate: number | undefined;
  try {
    rate = context.estimateDrainRate({ orgId: entry.orgId, envId: entry.envId });
  } catch {
    // An estimate is optional; a failing one only leaves the ETA out.
    rate = undefined;
  }
  return runViewFromEntry(entry, context.clock(), rate);
}

/**
 * Reads a run wherever it is: the database first, then the buffer, then the
 * database once more. While the database cannot be read, a buffered run is
 * still answered from the buffer; for any other run the database's error is
 * thrown (the caller cannot be told "not found"). Throws `INVALID_INPUT` for a
 * missing or empty id.
 */
export async function findRun(context: ReadFallbackContext, request: RunRef): Promise<FindRunResult> {
  const ref = requireRunRef(request);
  const { runStore, buffer } = context;
  let stored: RunRecord | undefined;
  let storeError: { error: unknown } | undefined;
  try {
    stored = await runStore.findRun(ref);
  } catch (error) {
    // The database is down: a run still in the buffer is answered from there.
    storeError = { error };
  }
  if (recordMatches(stored, ref)) return { outcome: "found", run: runViewFromRecord(stored) };
  let entry: BufferedEntry | undefined;
  try {
    entry = await buffer.getEntry(ref);
  } catch (error) {
    context.recorder.degraded({ component: "read_fallback", reason: "redis_error", error, ...ref });
    if (storeError !== undefined) throw storeError.error;
    const again = await runStore.findRun(ref);
    if (recordMatches(again, ref)) return { outcome: "found", run: runViewFromRecord(again) };
    return { outcome: "degraded", reason: "redis_error", error };
  }
  if (entryMatches(entry, ref)) return { outcome: "found", run: bufferedRunView(context, entry) };
  // Neither store could say the run is absent: the database's error stands.
  if (storeError !== undefined) throw storeError.error;
  // The drainer inserts a run into the database and then acks it out of the buffer: if both
  // happened between the two reads above, only this second database read sees the run.
  const again = await runStore.findRun(ref);
  return recordMatches(again, ref)
    ? { outcome: "found", run: runViewFromRecord(again) }
    : { outcome: "not_found" };
}
