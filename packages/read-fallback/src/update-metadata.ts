import { backoffDelay } from "./backoff.js";
import { bufferedRunView, entryMatches, recordMatches } from "./find-run.js";
import { type BufferStep, fromRedis, leaseWait, mutateWherever } from "./mutate-wherever.js";
import { ReadFallbackError, requireRunRef } from "./read-fallback-error.js";
import type { ReadFallbackContext } from "./read-fallback-options.js";
import type { RunRef } from "./run-store.js";
import type { RunSource } from "./run-view.js";

/** Computes a run's new metadata (JSON text) from its current one (`undefined` when it has none). */
export type MetadataUpdate = (current: string | undefined) => string;

/** What {@link updateMetadata} answers. */
export type UpdateMetadataResult =
  | { outcome: "updated"; version: number; metadata: string; attempts: number; source: RunSource }
  /** Every one of `maxMetadataAttempts` compare-and-sets lost to a concurrent update. */
  | { outcome: "version_conflict"; version: number; attempts: number }
  | { outcome: "not_found" }
  | { outcome: "timed_out"; waitedMs: number }
  | { outcome: "degraded"; reason: "redis_error"; error: unknown };

type Attempt =
  | { outcome: "updated"; version: number; metadata: string }
  | { outcome: "version_conflict"; version: number };

function nextMetadata(update: MetadataUpdate, current: string | undefined): string {
  const next = update(current);
  if (typeof next !== "string") {
    throw new ReadFallbackError("INVALID_INPUT", "update must return metadata as JSON text");
  }
  try {
    JSON.parse(next);
  } catch (cause) {
    throw new ReadFallbackError("INVALID_INPUT", "update must return valid JSON text", { cause });
  }
  return next;
}

/**
 * Updates a run's metadata wherever it is, by compare-and-set on its metadata
 * version: reads the current metadata and version, writes `update(current)`
 * only if the version is unchanged, and on a conflict re-reads and re-applies
 * after a jittered backoff, up to `maxMetadataAttempts` times. No concurrent
 * update is lost: each one is applied to the metadata the previous one wrote.
 * `update` may run several times and must be a pure function of its input.
 */
export async function updateMetadata(
  context: ReadFallbackContext,
  request: RunRef & { readonly update: MetadataUpdate },
): Promise<UpdateMetadataResult> {
  const ref = requireRunRef(request);
  const { update } = request;
  if (typeof update !== "function") {
    throw new ReadFallbackError("INVALID_INPUT", "update must be a function of the current metadata");
  }
  const { buffer, runStore } = context;
  const inBuffer = async (): Promise<BufferStep<Attempt>> => {
    const read = await fromRedis(() => buffer.getEntry(ref));
    if (!read.ok) return { step: "unavailable", error: read.error };
    const entry = read.value;
    if (!entryMatches(entry, ref)) return { step: "missing" };
    if (entry.state === "leased") return { step: "busy" };
    const metadata = nextMetadata(update, bufferedRunView(context, entry).metadata);
    const expectedVersion = entry.mutations.metadataVersion;
    const write = await fromRedis(() => buffer.setMetadata({ ...ref, metadata, expectedVersion }));
    if (!write.ok) return { step: "unavailable", error: write.error };
    switch (write.value.outcome) {
      case "updated":
        return { step: "applied", value: { outcome: "updated", version: write.value.version, metadata } };
      case "version_conflict":
        return { step: "applied", value: write.value };
      case "busy":
        return { step: "busy" };
      case "not_found":
        return { step: "missing" };
    }
  };
  const inStore = async (): Promise<Attempt | { outcome: "not_found" }> => {
    const record = await runStore.findRun(ref);
    if (!recordMatches(record, ref)) return { outcome: "not_found" };
    const metadata = nextMetadata(update, record.metadata);
    const write = await runStore.setMetadata({ ...ref, metadata, expectedVersion: record.metadataVersion });
    return write.outcome === "updated" ? { outcome: "updated", version: write.version, metadata } : write;
  };

  // One wait bound for the whole update, however many compare-and-sets it takes.
  const wait = leaseWait(context);
  for (let attempts = 1; ; attempts++) {
    const landing = await mutateWherever(context, ref, wait, inBuffer, inStore);
    if (landing.where === "timed_out") return { outcome: "timed_out", waitedMs: landing.waitedMs };
    if (landing.where === "degraded")
      return { outcome: "degraded", reason: "redis_error", error: landing.error };
    const result = landing.value;
    if (result.outcome === "not_found") return result;
    if (result.outcome === "updated") return { ...result, attempts, source: landing.where };
    if (attempts >= context.maxMetadataAttempts) {
      return { outcome: "version_conflict", version: result.version, attempts };
    }
    await context.sleep(backoffDelay(attempts - 1, context.metadataBackoff, context.random));
  }
}
