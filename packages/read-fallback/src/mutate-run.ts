import { bufferedRunView, entryMatches } from "./find-run.js";
import {
  type BufferStep,
  fromRedis,
  leaseWait,
  type MutationResult,
  mutateWherever,
  toMutationResult,
} from "./mutate-wherever.js";
import type {
  BufferAddTagsResult,
  BufferCancelResult,
  BufferResetIdempotencyResult,
  BufferSetDelayResult,
} from "./read-fallback-buffer.js";
import {
  ReadFallbackError,
  requireId,
  requireIdempotencyRef,
  requireRunRef,
  requireTime,
} from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";
import type {
  IdempotencyRef,
  RunRef,
  RunStatus,
  StoreAddTagsResult,
  StoreCancelResult,
  StoreRescheduleResult,
} from "./run-store.js";

type Applied<T> = Exclude<T, { outcome: "busy" } | { outcome: "not_found" }>;

/** Maps a buffer mutation's reply to a step: `busy` waits, `not_found` goes to the database. */
function stepOf<Result extends { outcome: string }>(
  reply: { ok: true; value: Result } | { ok: false; error: unknown },
): BufferStep<Applied<Result>> {
  if (!reply.ok) return { step: "unavailable", error: reply.error };
  const value = reply.value;
  if (value.outcome === "busy") return { step: "busy" };
  if (value.outcome === "not_found") return { step: "missing" };
  // Every other outcome is the buffer's answer for an entry it holds.
  return { step: "applied", value: value as Applied<Result> };
}

/** The default reason of a cancel. */
export const DEFAULT_CANCEL_REASON = "canceled";

/** What {@link cancelRun} answers. */
export type CancelRunResult = MutationResult<Applied<BufferCancelResult> | Applied<StoreCancelResult>>;

/** Cancels a run wherever it is. A buffered run stays in the buffer as `CANCELED`. */
export async function cancelRun(
  context: ReadFallbackContext,
  request: RunRef & { readonly reason?: string },
): Promise<CancelRunResult> {
  const ref = requireRunRef(request);
  const reason = request.reason === undefined ? DEFAULT_CANCEL_REASON : requireId("reason", request.reason);
  const wait = leaseWait(context);
  const landing = await mutateWherever(
    context,
    ref,
    wait,
    async () => stepOf(await fromRedis(() => context.buffer.cancel({ ...ref, reason }))),
    () => context.runStore.cancelRun({ ...ref, reason, at: context.clock() }),
  );
  return toMutationResult(landing);
}

/** What {@link addTags} answers. */
export type AddTagsResult = MutationResult<Applied<BufferAddTagsResult> | Applied<StoreAddTagsResult>>;

/** Adds tags (deduplicated; the buffer and the store cap the count) to a run wherever it is. */
export async function addTags(
  context: ReadFallbackContext,
  request: RunRef & { readonly tags: readonly string[] },
): Promise<AddTagsResult> {
  const ref = requireRunRef(request);
  if (!Array.isArray(request.tags) || request.tags.length === 0) {
    throw new ReadFallbackError("INVALID_INPUT", "tags must be a non-empty array of non-empty strings");
  }
  const tags = [...new Set(request.tags.map((tag, index) => requireId(`tags[${index}]`, tag)))];
  const wait = leaseWait(context);
  const landing = await mutateWherever(
    context,
    ref,
    wait,
    async () => stepOf(await fromRedis(() => context.buffer.addTags({ ...ref, tags }))),
    () => context.runStore.addTags({ ...ref, tags }),
  );
  return toMutationResult(landing);
}

/** A buffered run whose delay has passed (or that had none) cannot be rescheduled. */
type NotDelayed = { outcome: "not_delayed"; status: RunStatus };

/** What {@link rescheduleRun} answers. */
export type RescheduleRunResult = MutationResult<
  Applied<BufferSetDelayResult> | NotDelayed | Applied<StoreRescheduleResult>
>;

/** Moves the delay of a `DELAYED` run to `delayUntil` (epoch ms), wherever the run is. */
export async function rescheduleRun(
  context: ReadFallbackContext,
  request: RunRef & { readonly delayUntil: number },
): Promise<RescheduleRunResult> {
  const ref = requireRunRef(request);
  const delayUntil = requireTime("delayUntil", request.delayUntil);
  const { buffer } = context;
  const wait = leaseWait(context);
  const landing = await mutateWherever(
    context,
    ref,
    wait,
    async (): Promise<BufferStep<Applied<BufferSetDelayResult> | NotDelayed>> => {
      const read = await fromRedis(() => buffer.getEntry(ref));
      if (!read.ok) return { step: "unavailable", error: read.error };
      if (!entryMatches(read.value, ref)) return { step: "missing" };
      if (read.value.state === "leased") return { step: "busy" };
      const { status } = bufferedRunView(context, read.value);
      // Only the run's own reschedules change its delay, so this check cannot go stale
      // except by time passing, which only makes a later delay harmless.
      if (status !== "DELAYED") return { step: "applied", value: { outcome: "not_delayed", status } };
      return stepOf(await fromRedis(() => buffer.setDelay({ ...ref, delayUntil })));
    },
    () => context.runStore.rescheduleRun({ ...ref, delayUntil }),
  );
  return toMutationResult(landing);
}

/** What {@link resetIdempotencyKey} answers. */
export type ResetIdempotencyKeyResult =
  /** The key was cleared from these runs; the next trigger with it creates a new run. */
  | { outcome: "reset"; runIds: readonly string[] }
  | { outcome: "not_found" }
  | { outcome: "timed_out"; waitedMs: number }
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/**
 * Clears an idempotency key from the runs holding it, buffered or in the
 * database, and drops a resolved claim for it, so the next trigger with the
 * key creates a new run.
 */
export async function resetIdempotencyKey(
  context: ReadFallbackContext,
  request: IdempotencyRef,
): Promise<ResetIdempotencyKeyResult> {
  const ref = requireIdempotencyRef(request);
  const { buffer, runStore } = context;
  const tenant = { orgId: ref.orgId, envId: ref.envId };
  const wait = leaseWait(context);
  const landing = await mutateWherever(
    context,
    tenant,
    wait,
    async () => stepOf<BufferResetIdempotencyResult>(await fromRedis(() => buffer.resetIdempotency(ref))),
    () => runStore.resetIdempotencyKey(ref),
  );
  const runIds: string[] = [];
  switch (landing.where) {
    case "timed_out":
      return { outcome: "timed_out", waitedMs: landing.waitedMs };
    case "degraded":
      return { outcome: "degraded", reason: "redis_error", error: landing.error };
    case "buffer": {
      runIds.push(landing.value.runId);
      // An older run in the database may still hold the key (e.g. one whose key had expired).
      const stored = await runStore.resetIdempotencyKey(ref);
      if (stored.outcome === "reset") runIds.push(...stored.runIds);
      break;
    }
    case "database":
      if (landing.value.outcome === "reset") runIds.push(...landing.value.runIds);
  }
  // A resolved claim would answer the next trigger with the old run until its TTL ends.
  const claim = await fromRedis(() => buffer.resetResolvedClaim(ref));
  if (!claim.ok) {
    context.recorder.degraded({ component: "claim", reason: "redis_error", error: claim.error, ...tenant });
  }
  return runIds.length === 0 ? { outcome: "not_found" } : { outcome: "reset", runIds };
}
