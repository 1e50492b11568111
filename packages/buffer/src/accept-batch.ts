import {
  type AcceptResult,
  acceptPrepared,
  type PreparedAccept,
  parseAcceptReply,
  prepareAccept,
} from "./accept.js";
import type { BufferContext } from "./buffer-options.js";
import { acceptBatchScript } from "./generated/lua-scripts.js";
import { MAX_REROUTES, refreshLayout } from "./layout.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, UnexpectedReplyError } from "./reply.js";
import { isShardMoved } from "./shard-fence.js";
import type { AcceptInput } from "./snapshot.js";
import { coalesceWritesThisTurn } from "./write-coalescing.js";

/** Most triggers per `acceptBatch` script call; larger groups are split. */
export const MAX_ACCEPT_BATCH_GROUP = 500;

interface Call {
  readonly env: string;
  readonly single: boolean;
  readonly items: Array<{ readonly index: number; readonly prepared: PreparedAccept }>;
}

async function acceptGroup(
  context: BufferContext,
  group: readonly PreparedAccept[],
): Promise<AcceptResult[]> {
  const first = group[0];
  if (first === undefined) return [];
  const { keys } = first;
  const script = acceptBatchScript.name;
  // Several env groups (and concurrent batches) of one turn share a socket write.
  coalesceWritesThisTurn(context.redis);
  const raw = await runLuaScript(
    context.redis,
    acceptBatchScript,
    [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, keys.depth],
    [
      keys.org,
      keys.env,
      keys.orgDepthField,
      keys.envDepthField,
      context.options.maxEnvDepth ?? 0,
      context.options.maxOrgDepth ?? 0,
      ...group.flatMap((item) => [item.runField, item.text]),
    ],
  );
  const replies = replyArray(script, raw);
  if (replies.length !== group.length) throw new UnexpectedReplyError(script, raw);
  return group.map((item, index) => parseAcceptReply(script, replies[index], item.snapshot.runId));
}

/**
 * Accepts many triggers, answering one {@link AcceptResult} per input, in
 * input order. Every input is validated first: one invalid input throws
 * {@link BufferInputError} and nothing is written.
 *
 * Inputs are grouped by env (all of an env's keys share its shard's slot) and
 * each group is one script call. An input with an idempotency key needs its
 * own index key in `KEYS`, so it goes through the single-accept script and
 * splits its env's group there. Envs are accepted in parallel; an env's calls
 * run in input order, so its FIFO order holds.
 */
export function acceptBatch(context: BufferContext, inputs: readonly AcceptInput[]): Promise<AcceptResult[]> {
  return acceptBatchRouted(context, inputs, 0);
}

async function acceptBatchRouted(
  context: BufferContext,
  inputs: readonly AcceptInput[],
  reroutes: number,
): Promise<AcceptResult[]> {
  const prepared = inputs.map((input) => prepareAccept(context, input));
  const calls: Call[] = [];
  const openGroups = new Map<string, Call>();
  prepared.forEach((item, index) => {
    const env = item.keys.entries;
    if (item.idempotencyKey !== undefined) {
      openGroups.delete(env);
      calls.push({ env, single: true, items: [{ index, prepared: item }] });
      return;
    }
    let call = openGroups.get(env);
    if (call === undefined || call.items.length >= MAX_ACCEPT_BATCH_GROUP) {
      call = { env, single: false, items: [] };
      openGroups.set(env, call);
      calls.push(call);
    }
    call.items.push({ index, prepared: item });
  });
  const results = new Array<AcceptResult | undefined>(inputs.length);
  const run = async (call: Call): Promise<void> => {
    const group = call.items.map((item) => item.prepared);
    const answers = await (call.single
      ? Promise.all(group.map((item) => acceptPrepared(context, item)))
      : acceptGroup(context, group)
    ).catch((error: unknown) => {
      // A shard moved by a live reshard refused the call before it wrote anything: these inputs
      // are prepared again on the re-read layout; the other calls' answers stand.
      if (!isShardMoved(error) || reroutes >= MAX_REROUTES) throw error;
      const again = call.items.map((item) => inputs[item.index] as AcceptInput);
      return refreshLayout(context).then(() => acceptBatchRouted(context, again, reroutes + 1));
    });
    call.items.forEach((item, position) => {
      results[item.index] = answers[position];
    });
  };
  // Envs run in parallel; an env's own calls run one after another. Sending
  // them at once is not enough to keep their order: a call whose EVALSHA
  // meets NOSCRIPT is resent as EVAL after the others have run.
  const chains = new Map<string, Promise<void>>();
  for (const call of calls) {
    const previous = chains.get(call.env) ?? Promise.resolve();
    chains.set(
      call.env,
      previous.then(() => run(call)),
    );
  }
  await Promise.all(chains.values());
  return results.map((result) => {
    if (result === undefined) throw new Error("acceptBatch: an input got no result");
    return result;
  });
}
