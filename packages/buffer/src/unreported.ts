// Failures the buffer makes itself - a lease the reaper fails out of attempts, an entry `lease`
// cannot decode - are learnt of by one consumer, in one reply. Should that consumer die (or its
// report throw) before it reports them, the report would be lost while the FAILED record lives
// on. So each such failure also waits in its shard's `unreported` set, scored by when its report
// is due again, until the consumer settles it; any consumer's sweep hands out the overdue ones.
import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import type { FailureKind } from "./entry-view.js";
import { claimUnreportedScript, settleUnreportedScript } from "./generated/lua-scripts.js";
import type { EntryAddress } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { getFailed } from "./reads.js";
import { DEFAULT_SWEEP_LIMIT, type SweepOptions } from "./reaper.js";
import { replyArray, replyNumber, replyString } from "./reply.js";
import { eachShard, type ShardFailure } from "./shard-failure.js";

/** A failure the buffer made itself whose report is due, as its FAILED record gives it. */
export interface UnreportedFailure extends EntryAddress {
  /** `attempts_exhausted` (the lease reaper failed it) or `invalid_entry` (`lease` could not decode it). */
  readonly kind: FailureKind;
  /** Deliveries made (0 for `invalid_entry`). */
  readonly attempts: number;
  /** The error text of its FAILED record. */
  readonly error: string;
}

/** What `claimUnreportedFailures` answers. */
export interface ClaimUnreportedResult {
  /** Handed out to this caller until `failureReportRetryMs` passes; settle each once reported. */
  failures: UnreportedFailure[];
  /** Due reports whose FAILED record had already gone (its retention ended): dropped. */
  expired: number;
  /** Shards that could not be read this time; the others were. */
  unavailableShards: ShardFailure[];
}

/** What `settleFailureReport` answers. */
export type SettleFailureReportResult = { outcome: "settled" } | { outcome: "not_found" };

/**
 * Hands out the failures the buffer made itself whose report is overdue: never settled within
 * `failureReportRetryMs` of the failure (or of being handed out before). Each is pushed back by
 * that time as it is handed out, so concurrent callers never get one failure at once; a caller
 * that dies before settling it has it handed out again later. Reports are at least once.
 */
export async function claimUnreportedFailures(
  context: BufferContext,
  options?: SweepOptions,
): Promise<ClaimUnreportedResult> {
  const limit = options?.limit ?? DEFAULT_SWEEP_LIMIT;
  const script = claimUnreportedScript.name;
  let expired = 0;
  const { results, unavailable } = await eachShard(context, "claiming unreported failures", async (shard) => {
    const key = context.keys.shard(shard).unreported;
    const raw = await runLuaScript(
      context.redis,
      claimUnreportedScript,
      [key],
      [limit, context.options.failureReportRetryMs],
    );
    const failures: UnreportedFailure[] = [];
    for (const member of replyArray(script, raw)) {
      const address = context.keys.parseEntryMember(replyString(script, member));
      const record = await getFailed(context, address);
      if (record !== undefined) {
        failures.push({ ...address, kind: record.kind, attempts: record.attempts, error: record.error });
      } else {
        // The record is gone (retention ended, or discarded between the two calls).
        await settleFailureReport(context, address);
        expired += 1;
      }
    }
    return failures;
  });
  return { failures: results, expired, unavailableShards: unavailable };
}

/** Settles the report of a failure the buffer made itself: it is no longer handed out. */
export async function settleFailureReport(
  context: BufferContext,
  address: EntryAddress,
): Promise<SettleFailureReportResult> {
  const { keys, member } = entryKeys(context.keys, address);
  const removed = replyNumber(
    settleUnreportedScript.name,
    await runLuaScript(context.redis, settleUnreportedScript, [keys.unreported], [member]),
  );
  return removed > 0 ? { outcome: "settled" } : { outcome: "not_found" };
}
