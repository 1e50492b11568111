import type { BufferContext } from "./buffer-options.js";
import { entryKeys, withValidIds } from "./entry-keys.js";
import { discardFailedScript } from "./generated/lua-scripts.js";
import type { EntryAddress } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyNumber } from "./reply.js";

/** What `discardFailed` answers: whether a retained FAILED record was there to delete. */
export type DiscardFailedResult = { outcome: "discarded" } | { outcome: "not_found" };

/**
 * Deletes a retained FAILED record (see `getFailed`) before its retention ends: an operator
 * discarded it, or replayed it (`getFailed`, then `accept` of its snapshot under the same run id,
 * then this). It leaves `listFailed`, and its report, if still unsettled, is dropped with it. A second call answers `not_found`. A script rather than a `DEL`, so that a live
 * reshard's shard fence holds it while the record's shard is copied (ADR 15).
 */
export async function discardFailed(
  context: BufferContext,
  address: EntryAddress,
): Promise<DiscardFailedResult> {
  const key = withValidIds(() => context.keys.failed(address.orgId, address.envId, address.runId));
  const { keys, member, runField } = entryKeys(context.keys, address);
  const deleted = replyNumber(
    discardFailedScript.name,
    await runLuaScript(
      context.redis,
      discardFailedScript,
      [key, keys.unreported, keys.failedIndex],
      [member, runField],
    ),
  );
  return deleted > 0 ? { outcome: "discarded" } : { outcome: "not_found" };
}
