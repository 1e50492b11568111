import { MollifierError } from "@mollifier/core";
import { backoffDelay } from "./backoff.js";
import { ReadFallbackError } from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";
import type { RunSource } from "./run-view.js";

/** What one attempt at a mutation in the buffer found. */
export type BufferStep<Applied> =
  /** The entry was there and not leased: the buffer answered (applied or refused). */
  | { step: "applied"; value: Applied }
  /** The entry is leased: the drainer is writing it to the database right now. */
  | { step: "busy" }
  /** No entry: the run is in the database, if it exists at all. */
  | { step: "missing" }
  /** Redis failed. */
  | { step: "unavailable"; error: unknown };

/** Where a mutation landed. */
export type Landing<Applied, Stored> =
  | { where: "buffer"; value: Applied }
  | { where: "database"; value: Stored }
  | { where: "timed_out"; waitedMs: number }
  | { where: "degraded"; error: unknown };

/** Adds `source` to each member of a union of outcomes. */
export type Sourced<T> = T extends unknown ? T & { source: RunSource } : never;

/** The result of a mutation on a run wherever it is. */
export type MutationResult<Applied> =
  | Sourced<Applied>
  /** No such run for this org and env (a run of another tenant is `not_found` too). */
  | { outcome: "not_found" }
  /** The entry stayed leased past `leasePolling.maxWaitMs`; nothing was changed. */
  | { outcome: "timed_out"; waitedMs: number }
  /** The buffer could not be reached and the database does not have the run; nothing was changed. */
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

/**
 * Runs one buffer call, turning a thrown Redis error into data. The buffer's
 * own errors (any `MollifierError`, whose base this package shares without
 * importing the buffer) are not outages but input it refused (an id too long
 * for a key, say): they are rethrown as `INVALID_INPUT`, never answered as
 * `degraded`.
 */
export async function fromRedis<Result>(
  call: () => Promise<Result>,
): Promise<{ ok: true; value: Result } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (MollifierError.isInstance(error)) {
      throw new ReadFallbackError("INVALID_INPUT", error.message, { cause: error });
    }
    return { ok: false, error };
  }
}

/**
 * Applies a mutation where the run is: in the buffer while its entry is there
 * and not leased; in the database once the entry is gone. While the entry is
 * leased it polls Redis (never the database) with jittered backoff until the
 * lease ends, until `wait.deadline` (epoch ms, `context.clock`); `wait.startedAt`
 * is when the caller's whole operation started, for `waitedMs`.
 */
export async function mutateWherever<Applied, Stored extends { outcome: string }>(
  context: ReadFallbackContext,
  tenant: { readonly orgId: string; readonly envId: string; readonly runId?: string },
  wait: { readonly startedAt: number; readonly deadline: number },
  inBuffer: () => Promise<BufferStep<Applied>>,
  inStore: () => Promise<Stored>,
): Promise<Landing<Applied, Stored>> {
  const { startedAt, deadline } = wait;
  for (let attempt = 0; ; attempt++) {
    const step = await inBuffer();
    switch (step.step) {
      case "applied":
        return { where: "buffer", value: step.value };
      case "missing":
        // The drainer inserts a run into the database before its ack removes the entry, so a
        // run whose entry is gone is in the database if it exists at all.
        return { where: "database", value: await inStore() };
      case "unavailable": {
        context.recorder.degraded({
          component: "read_fallback",
          reason: "redis_error",
          error: step.error,
          ...tenant,
        });
        // Without Redis we cannot tell whether the run is buffered: only a run the database
        // already has can be changed safely.
        const stored = await inStore();
        return stored.outcome === "not_found"
          ? { where: "degraded", error: step.error }
          : { where: "database", value: stored };
      }
      case "busy": {
        const now = context.clock();
        if (now >= deadline) return { where: "timed_out", waitedMs: now - startedAt };
        await context.sleep(
          Math.min(backoffDelay(attempt, context.leasePolling, context.random), deadline - now),
        );
      }
    }
  }
}

/** Turns a {@link Landing} into the public result, with the source of an applied outcome. */
export function toMutationResult<Applied extends { outcome: string }, Stored extends { outcome: string }>(
  landing: Landing<Applied, Stored | { outcome: "not_found" }>,
): MutationResult<Applied | Stored> {
  switch (landing.where) {
    case "buffer":
      return sourced(landing.value, "buffer");
    case "database":
      return isNotFound(landing.value) ? { outcome: "not_found" } : sourced(landing.value, "database");
    case "timed_out":
      return { outcome: "timed_out", waitedMs: landing.waitedMs };
    case "degraded":
      return { outcome: "degraded", reason: "redis_error", error: landing.error };
  }
}

function isNotFound(value: { outcome: string }): value is { outcome: "not_found" } {
  return value.outcome === "not_found";
}

function sourced<T extends { outcome: string }>(value: T, source: RunSource): Sourced<T> {
  // A spread of one union member plus `source` is that member with `source`; TS cannot see it.
  return { ...value, source } as Sourced<T>;
}

/** The wait bound of one operation that starts now: `leasePolling.maxWaitMs` from now. */
export function leaseWait(context: ReadFallbackContext): { startedAt: number; deadline: number } {
  const startedAt = context.clock();
  return { startedAt, deadline: startedAt + context.leasePolling.maxWaitMs };
}
