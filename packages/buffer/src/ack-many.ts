import { type AckResult, ack } from "./ack.js";
import type { BufferContext } from "./buffer-options.js";
import { envKeys, leaseMember, runFieldOf } from "./entry-keys.js";
import type { LeasedEntry } from "./entry-view.js";
import { ackManyScript } from "./generated/lua-scripts.js";
import type { EnvKeys } from "./keys.js";
import { followMovedShards, MAX_REROUTES, refreshLayout } from "./layout.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";
import { isShardMoved } from "./shard-fence.js";

/** Most entries per `ackMany` script call; larger batches are split over several calls. */
export const MAX_ACK_BATCH_GROUP = 500;

/** The fields of a leased entry `ack` and `ackMany` read. */
export type AckableEntry = Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken" | "snapshot">;

/** The entries of one env in one script call. */
interface EnvGroup {
  readonly call: AckCall;
  readonly keys: EnvKeys;
  readonly indexes: number[];
  readonly args: string[];
}

/** One script call: the env groups of one hash slot (on a single Redis, of any shard). */
interface AckCall {
  readonly envs: EnvGroup[];
  size: number;
}

async function ackCall(context: BufferContext, call: AckCall): Promise<AckResult[]> {
  const script = ackManyScript.name;
  const [first, ...more] = call.envs as [EnvGroup, ...EnvGroup[]];
  const keys: [string, string, string, ...string[]] = [
    first.keys.entries,
    first.keys.leases,
    first.keys.depth,
  ];
  const args: [string, string, string, ...string[]] = [
    String(first.indexes.length),
    first.keys.orgDepthField,
    first.keys.envDepthField,
  ];
  for (const arg of first.args) args.push(arg);
  for (const env of more) {
    keys.push(env.keys.entries, env.keys.leases, env.keys.depth);
    args.push(String(env.indexes.length), env.keys.orgDepthField, env.keys.envDepthField);
    for (const arg of env.args) args.push(arg);
  }
  const raw = await runLuaScript(context.redis, ackManyScript, keys, args);
  const replies = replyArray(script, raw);
  if (replies.length !== call.size) throw new UnexpectedReplyError(script, raw);
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
 * Entries are grouped by env, and the envs of one hash slot (one shard) go in
 * one script call of up to {@link MAX_ACK_BATCH_GROUP} entries; on a single
 * Redis, where slots do not matter, the envs of every shard share calls. An
 * entry whose snapshot carries an idempotency key needs that index key in
 * `KEYS`, so it is acked by the single `ack` script, beside the groups. Ids
 * are checked before anything is sent: an invalid one throws
 * {@link BufferInputError} and nothing is acked.
 */
export function ackMany(context: BufferContext, entries: readonly AckableEntry[]): Promise<AckResult[]> {
  return ackManyRouted(context, entries, 0);
}

async function ackManyRouted(
  context: BufferContext,
  entries: readonly AckableEntry[],
  reroutes: number,
): Promise<AckResult[]> {
  const calls: AckCall[] = [];
  // The call being filled per slot, and the env group being filled per env.
  const openCalls = new Map<string, AckCall>();
  const openEnvs = new Map<string, EnvGroup>();
  const singles: Array<{ index: number; entry: AckableEntry }> = [];
  const oneSlot = !context.redis.isCluster;
  // Batches run env by env, so the previous entry's env keys are usually this one's.
  let envOf: AckableEntry | undefined;
  let keysOf: EnvKeys | undefined;
  entries.forEach((entry, index) => {
    let keys = keysOf;
    if (keys === undefined || envOf?.orgId !== entry.orgId || envOf.envId !== entry.envId) {
      keys = envKeys(context.keys, entry.orgId, entry.envId);
      keysOf = keys;
      envOf = entry;
    }
    const runField = runFieldOf(entry.runId);
    if (entry.snapshot.options.idempotencyKey !== undefined) {
      singles.push({ index, entry });
      return;
    }
    const member = leaseMember(keys, runField);
    // Every key of a shard shares its hash tag; its lease set names it.
    const slot = oneSlot ? "" : keys.leases;
    let call = openCalls.get(slot);
    if (call === undefined || call.size >= MAX_ACK_BATCH_GROUP) {
      call = { envs: [], size: 0 };
      openCalls.set(slot, call);
      calls.push(call);
    }
    let env = openEnvs.get(keys.entries);
    if (env === undefined || env.call !== call) {
      env = { call, keys, indexes: [], args: [] };
      openEnvs.set(keys.entries, env);
      call.envs.push(env);
    }
    env.indexes.push(index);
    env.args.push(runField, member, entry.leaseToken);
    call.size += 1;
  });
  const results = new Array<AckResult | undefined>(entries.length);
  await Promise.all([
    ...calls.map(async (call) => {
      // A call meeting a shard moved by a live reshard wrote nothing: its entries go again on
      // the re-read layout, and the other calls' answers stand.
      const answers = await ackCall(context, call).catch((error: unknown) => {
        if (!isShardMoved(error) || reroutes >= MAX_REROUTES) throw error;
        const again = call.envs.flatMap((env) => env.indexes).map((index) => entries[index] as AckableEntry);
        return refreshLayout(context).then(() => ackManyRouted(context, again, reroutes + 1));
      });
      let position = 0;
      for (const env of call.envs) {
        for (const index of env.indexes) results[index] = answers[position++];
      }
    }),
    ...singles.map(async ({ index, entry }) => {
      results[index] = await followMovedShards(context, () => ack(context, entry));
    }),
  ]);
  return results.map((result) => {
    if (result === undefined) throw new Error("ackMany: an entry got no result");
    return result;
  });
}
