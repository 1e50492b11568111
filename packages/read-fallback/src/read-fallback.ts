import {
  type ClaimOrAwaitResult,
  type ClaimRequest,
  claimOrAwait,
  type PublishResult,
  publish,
  type ReleaseResult,
  release,
} from "./claim-or-await.js";
import { type FindIdempotentRunResult, findIdempotentRun } from "./find-idempotent-run.js";
import { type FindRunResult, findRun } from "./find-run.js";
import {
  type AddTagsResult,
  addTags,
  type CancelRunResult,
  cancelRun,
  type RescheduleRunResult,
  type ResetIdempotencyKeyResult,
  rescheduleRun,
  resetIdempotencyKey,
} from "./mutate-run.js";
import type { BufferIdempotencyRef } from "./read-fallback-buffer.js";
import { type ReadFallbackOptions, resolveReadFallbackOptions } from "./read-fallback-options.js";
import type { IdempotencyRef, RunRef } from "./run-store.js";
import { type MetadataUpdate, type UpdateMetadataResult, updateMetadata } from "./update-metadata.js";

/** Idempotency claims, reads and mutations of runs wherever they are: in the database or the buffer. */
export interface ReadFallback {
  /** Claims an idempotency key, or waits for its owner to publish; see {@link claimOrAwait}. */
  claimOrAwait(request: ClaimRequest): Promise<ClaimOrAwaitResult>;
  /** Publishes the claim owner's run id; compare-and-act on `token`. */
  publish(request: ClaimRequest & { readonly token: string; readonly runId: string }): Promise<PublishResult>;
  /** Releases a claim whose trigger failed; compare-and-act on `token`. */
  release(request: BufferIdempotencyRef & { readonly token: string }): Promise<ReleaseResult>;
  /** Reads a run from the database or the buffer. */
  findRun(ref: RunRef): Promise<FindRunResult>;
  /** Finds the run holding an idempotency key, buffered or not, honouring its expiry. */
  findIdempotentRun(ref: IdempotencyRef): Promise<FindIdempotentRunResult>;
  cancelRun(request: RunRef & { readonly reason?: string }): Promise<CancelRunResult>;
  addTags(request: RunRef & { readonly tags: readonly string[] }): Promise<AddTagsResult>;
  /** Compare-and-set of the run's metadata with bounded, jittered retries. */
  updateMetadata(request: RunRef & { readonly update: MetadataUpdate }): Promise<UpdateMetadataResult>;
  rescheduleRun(request: RunRef & { readonly delayUntil: number }): Promise<RescheduleRunResult>;
  resetIdempotencyKey(ref: IdempotencyRef): Promise<ResetIdempotencyKeyResult>;
}

/**
 * Creates the read fallback over a buffer and the database's run store.
 * Throws `INVALID_OPTIONS` naming the option that is wrong.
 *
 * @example
 * const readFallback = createReadFallback({ buffer, runStore, recorder });
 * const claim = await readFallback.claimOrAwait({ orgId, envId, taskId, idempotencyKey });
 * if (claim.outcome === "resolved") return claim.runId;
 */
export function createReadFallback(options: ReadFallbackOptions): ReadFallback {
  const context = resolveReadFallbackOptions(options);
  return Object.freeze({
    claimOrAwait: (request) => claimOrAwait(context, request),
    publish: (request) => publish(context, request),
    release: (request) => release(context, request),
    findRun: (ref) => findRun(context, ref),
    findIdempotentRun: (ref) => findIdempotentRun(context, ref),
    cancelRun: (request) => cancelRun(context, request),
    addTags: (request) => addTags(context, request),
    updateMetadata: (request) => updateMetadata(context, request),
    rescheduleRun: (request) => rescheduleRun(context, request),
    resetIdempotencyKey: (ref) => resetIdempotencyKey(context, ref),
  } satisfies ReadFallback);
}
