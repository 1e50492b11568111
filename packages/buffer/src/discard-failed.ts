import type { BufferContext } from "./buffer-options.js";
import { withValidIds } from "./entry-keys.js";
import type { EntryAddress } from "./keys.js";

/** What `discardFailed` answers: whether a retained FAILED record was there to delete. */
export type DiscardFailedResult = { outcome: "discarded" } | { outcome: "not_found" };

/**
 * Deletes a retained FAILED record (see `getFailed`) before its retention ends: an operator
 * discarded it, or replayed it (`getFailed`, then `accept` of its snapshot under the same run id,
 * then this). One key, so one command; a second call answers `not_found`.
 */
export async function discardFailed(
  context: BufferContext,
  address: EntryAddress,
): Promise<DiscardFailedResult> {
  const deleted = await context.redis.del(
    withValidIds(() => context.keys.failed(address.orgId, address.envId, address.runId)),
  );
  return deleted > 0 ? { outcome: "discarded" } : { outcome: "not_found" };
}
