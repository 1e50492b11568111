import type { DrainAckResult, DrainEntry, DrainSource } from "@mollifier/drainer";

/** A source that may also acknowledge several entries in one call (newer drainers use it when present). */
type MaybeBatchAcking<Entry extends DrainEntry> = DrainSource<Entry> & {
  ackMany?: (entries: readonly Entry[]) => Promise<readonly DrainAckResult[]>;
};

/**
 * Wraps a drain source so every successful ack is reported to `onAck` (with
 * the time it completed), without changing what the drainer sees. The bench
 * measures drain rates and per-org completion from these acks.
 */
export function countingSource<Entry extends DrainEntry>(
  source: MaybeBatchAcking<Entry>,
  onAck: (entry: Entry) => void,
): DrainSource<Entry> {
  const wrapped: DrainSource<Entry> = {
    lease: (request) => source.lease(request),
    extendLease: (entry, leaseMs) => source.extendLease(entry, leaseMs),
    async ack(entry) {
      const result = await source.ack(entry);
      if (result.outcome === "acked") onAck(entry);
      return result;
    },
    retry: (entry, failure) => source.retry(entry, failure),
    fail: (entry, failure) => source.fail(entry, failure),
    reapExpiredLeases: (options) => source.reapExpiredLeases(options),
    promoteDueRetries: (options) => source.promoteDueRetries(options),
    shards: () => source.shards(),
    activeOrgs: (shard) => source.activeOrgs(shard),
    activeEnvs: (orgId) => source.activeEnvs(orgId),
  };
  // Optional methods are forwarded only when the source has them, so the
  // drainer takes the same paths as without the wrapper.
  const activeSet = source.activeSet?.bind(source);
  if (activeSet !== undefined) wrapped.activeSet = activeSet;
  const ackMany = source.ackMany?.bind(source);
  if (ackMany !== undefined) {
    Object.assign(wrapped, {
      async ackMany(entries: readonly Entry[]): Promise<readonly DrainAckResult[]> {
        const results = await ackMany(entries);
        results.forEach((result, index) => {
          const entry = entries[index];
          if (result.outcome === "acked" && entry !== undefined) onAck(entry);
        });
        return results;
      },
    });
  }
  return wrapped;
}

/** Resolves when `predicate` holds, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, intervalMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
