import { backoffDelay } from "./backoff.js";
import { fromRedis } from "./mutate-wherever.js";
import type { BufferIdempotencyRef } from "./read-fallback-buffer.js";
import { requireId, requireIdempotencyRef } from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";

/** A trigger's idempotency key, with its expiry when it has one. */
export interface ClaimRequest extends BufferIdempotencyRef {
  /** Epoch ms after which the key no longer dedupes; sets the claim TTL. */
  readonly idempotencyKeyExpiresAt?: number | undefined;
}

/** What {@link claimOrAwait} answers. */
export type ClaimOrAwaitResult =
  /** This request owns the key: trigger, then `publish` (or `release`) with `token`. */
  | { outcome: "claimed"; token: string; ttlMs: number }
  /** Another request already triggered the run: answer with `runId`. */
  | { outcome: "resolved"; runId: string }
  /** Another request still owns the key after the polling bound. */
  | { outcome: "timed_out"; waitedMs: number }
  /** Redis failed: proceed without a claim (fail-open). */
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/** What {@link publish} answers. */
export type PublishResult =
  | { outcome: "published" }
  /** The claim expired and another request owns the key now; nothing was written. */
  | { outcome: "not_owner" }
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/** What {@link release} answers. */
export type ReleaseResult =
  | { outcome: "released" }
  /** The claim expired and another request owns the key now; it was left alone. */
  | { outcome: "not_owner" }
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/**
 * The claim TTL for a key: the time left until the key expires, clamped to
 * `[minClaimTtlMs, maxClaimTtlMs]`; `maxClaimTtlMs` for a key without expiry
 * (or one whose expiry is not a finite number).
 */
export function claimTtlMs(
  context: Pick<ReadFallbackContext, "minClaimTtlMs" | "maxClaimTtlMs">,
  idempotencyKeyExpiresAt: number | undefined,
  now: number,
): number {
  if (typeof idempotencyKeyExpiresAt !== "number" || !Number.isFinite(idempotencyKeyExpiresAt)) {
    return context.maxClaimTtlMs;
  }
  return Math.min(context.maxClaimTtlMs, Math.max(context.minClaimTtlMs, idempotencyKeyExpiresAt - now));
}

/**
 * Claims (env, task, idempotency key) before a trigger. One request wins
 * `claimed` and must `publish` its run id (or `release`); the others poll with
 * jittered backoff until the owner publishes (`resolved`), the owner's claim
 * expires and one of them wins it (`claimed`), or `claimPolling.maxWaitMs`
 * passes (`timed_out`). A Redis error answers `degraded`: the caller proceeds
 * as if there were no claim, because a Redis outage must never fail a trigger.
 */
export async function claimOrAwait(
  context: ReadFallbackContext,
  request: ClaimRequest,
): Promise<ClaimOrAwaitResult> {
  const ref = requireIdempotencyRef(request);
  const { buffer, recorder, clock, claimPolling } = context;
  // One token for every attempt: a retry after the owner's claim expired takes it as this request.
  const token = context.generateToken();
  const startedAt = clock();
  const deadline = startedAt + claimPolling.maxWaitMs;
  const tenant = { orgId: ref.orgId, envId: ref.envId };
  for (let attempt = 0; ; attempt++) {
    const ttlMs = claimTtlMs(context, request.idempotencyKeyExpiresAt, clock());
    const reply = await fromRedis(() => buffer.claim({ ...ref, token, ttlMs }));
    if (!reply.ok) {
      recorder.claim({ outcome: "degraded", ...tenant });
      recorder.degraded({ component: "claim", reason: "redis_error", error: reply.error, ...tenant });
      return { outcome: "degraded", reason: "redis_error", error: reply.error };
    }
    const result = reply.value;
    switch (result.outcome) {
      case "claimed":
        recorder.claim({ outcome: "claimed", ...tenant });
        return { outcome: "claimed", token, ttlMs };
      case "resolved":
        recorder.claim({ outcome: "resolved", ...tenant });
        return { outcome: "resolved", runId: result.runId };
      case "pending": {
        // Reported once per request that has to wait, besides its final outcome.
        if (attempt === 0) recorder.claim({ outcome: "pending", ...tenant });
        const now = clock();
        if (now >= deadline) {
          recorder.claim({ outcome: "timed_out", ...tenant });
          return { outcome: "timed_out", waitedMs: now - startedAt };
        }
        // Never sleep past the owner's TTL: the first poll after it expires can win the claim.
        const delay = Math.min(
          backoffDelay(attempt, claimPolling, context.random),
          Math.max(1, result.ttlMs),
          deadline - now,
        );
        await context.sleep(delay);
      }
    }
  }
}

/**
 * Publishes the run the claim owner triggered, so waiting and later requests
 * with the key answer `resolved` with `runId`. Compare-and-act on `token`: a
 * request whose claim expired cannot overwrite the new owner's claim.
 */
export async function publish(
  context: ReadFallbackContext,
  request: ClaimRequest & { readonly token: string; readonly runId: string },
): Promise<PublishResult> {
  const ref = requireIdempotencyRef(request);
  const token = requireId("token", request.token);
  const runId = requireId("runId", request.runId);
  const ttlMs = claimTtlMs(context, request.idempotencyKeyExpiresAt, context.clock());
  const reply = await fromRedis(() => context.buffer.publishClaim({ ...ref, token, runId, ttlMs }));
  if (reply.ok) return reply.value;
  return degraded(context, ref, reply.error);
}

/**
 * Releases a claim whose trigger failed, so the next request can claim at
 * once. Compare-and-act on `token`: a late release never erases a newer
 * owner's claim.
 */
export async function release(
  context: ReadFallbackContext,
  request: BufferIdempotencyRef & { readonly token: string },
): Promise<ReleaseResult> {
  const ref = requireIdempotencyRef(request);
  const token = requireId("token", request.token);
  const reply = await fromRedis(() => context.buffer.releaseClaim({ ...ref, token }));
  if (reply.ok) return reply.value;
  return degraded(context, ref, reply.error);
}

function degraded(
  context: ReadFallbackContext,
  ref: BufferIdempotencyRef,
  error: unknown,
): { outcome: "degraded"; reason: "redis_error"; error: unknown } {
  context.recorder.degraded({
    component: "claim",
    reason: "redis_error",
    error,
    orgId: ref.orgId,
    envId: ref.envId,
  });
  return { outcome: "degraded", reason: "redis_error", error };
}
