import type { DrainEntry, DrainSource } from "@mollifier/drainer";

/**
 * Wraps a drain source so every successful ack is reported to `onAck` (with
 * the time it completed), without changing what the drainer sees. The bench
 * measures drain rates and per-org completion from these acks.
 */
export function countingSource<Entry extends DrainEntry>(
  source: DrainSource<Entry>,
  onAck: (entry: Entry) => void,
): DrainSource<Entry> {
  return {
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
}

/** Resolves when `predicate` holds, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, intervalMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
