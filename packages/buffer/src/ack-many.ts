import { type AckResult, ack } from "./ack.js";
import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import type { LeasedEntry } from "./entry-view.js";
import { ackManyScript } from "./generated/lua-scripts.js";
import type { EnvKeys } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";

/** Most entries per `ackMany` script call; larger env groups are split. */
export const MAX_ACK_BATCH_GROUP = 500;

/** The fields of a leased entry `ack` and `ackMany` read. */
export type AckableEntry = Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken" | "snapshot">;

interface AckGroup {
  readonly keys: EnvKeys;
  readonly indexes: number[];
  readonly args: string[];
}

async function ackGroup(context: BufferContext, group: AckGroup): Promise<AckResult[]> {
  const { keys } = group;
  const script = ackManyScript.name;
  const raw = await runLuaScript(
    context.redis,
    ackManyScript,
    [keys.entries, keys.leases, keys.depth],
    [keys.orgDepthField, keys.envDepthField, ...group.args],
  );
  const replies = replyArray(script, raw);
  if (replies.length !== group.indexes.length) throw new UnexpectedReplyError(script, raw);
  return replies.map((reply) => {
    const outcome = replyString(script, reply);
    if (outcome === "acked" || outcome === "lease_lost") return { outcome };
    throw new UnexpectedReplyError(script, raw);
  });
}

/**
 * Acknowledges many leased entries, answering one {@link AckResult} per
 * entry, in input order, exactly as `ack` would for each: an entry is removed
 * only while its lease token matches, and its idempotency index is released
 * only while it still names the run.
 *
 * Entries are grouped by env (an env's keys share its shard's slot) and each
 * group is one script call. An entry whose snapshot carries an idempotency key
 * needs that index key in `KEYS`, so it is acked by the single `ack` script,
 * beside the groups. Ids are checked before anything is sent: an invalid one
 * throws {@link BufferInputError} and nothing is acked.
 */
export async function ackMany(
  context: BufferContext,
  entries: readonly AckableEntry[],
): Promise<AckResult[]> {
  const groups: AckGroup[] = [];
  const open = new Map<string, AckGroup>();
  const singles: Array<{ index: number; entry: AckableEntry }> = [];
  entries.forEach((entry, index) => {
    const { keys, runField, member } = entryKeys(context.keys, entry);
    if (entry.snapshot.options.idempotencyKey !== undefined) {
      singles.push({ index, entry });
      return;
    }
    let group = open.get(keys.entries);
    if (group === undefined || group.indexes.length >= MAX_ACK_BATCH_GROUP) {
      group = { keys, indexes: [], args: [] };
      open.set(keys.entries, group);
      groups.push(group);
    }
    group.indexes.push(index);
    group.args.push(runField, member, entry.leaseToken);
  });
  const results = new Array<AckResult | undefined>(entries.length);
  await Promise.all([
    ...groups.map(async (group) => {
      const answers = await ackGroup(context, group);
      group.indexes.forEach((index, position) => {
        results[index] = answers[position];
      });
    }),
    ...singles.map(async ({ index, entry }) => {
      results[index] = await ack(context, entry);
    }),
  ]);
  return results.map((result) => {
    if (result === undefined) throw new Error("ackMany: an entry got no result");
    return result;
  });
}
