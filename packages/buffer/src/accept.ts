import type { BufferContext } from "./buffer-options.js";
import { BufferInputError } from "./errors.js";
import { acceptScript } from "./generated/lua-scripts.js";
import { decodeSegment, type EnvKeys, encodeSegment } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyString, UnexpectedReplyError } from "./reply.js";
import { type AcceptInput, encodeSnapshot, type TriggerSnapshot } from "./snapshot.js";
import { coalesceWritesThisTurn } from "./write-coalescing.js";

/** What `accept` answers, per trigger. */
export type AcceptResult =
  | { outcome: "accepted"; runId: string /** 0-based in the env queue */; position: number }
  | { outcome: "duplicate_run"; runId: string }
  | { outcome: "duplicate_idempotency" /** the run already holding the key */; runId: string }
  /** `runId` is the refused run's, so a caller can answer for it as for the other outcomes. */
  | { outcome: "over_capacity"; runId: string; scope: "env" | "org"; depth: number; limit: number };

/** An accept input, validated and encoded, with the keys it goes to. */
export interface PreparedAccept {
  readonly snapshot: TriggerSnapshot;
  readonly text: string;
  readonly keys: EnvKeys;
  readonly runField: string;
  /** The idempotency index key, when the trigger carries an idempotency key. */
  readonly idempotencyKey: string | undefined;
}

/** Validates an input and computes its keys; throws {@link BufferInputError} before anything is written. */
export function prepareAccept(context: BufferContext, input: AcceptInput): PreparedAccept {
  const { snapshot, text } = encodeSnapshot(input, context.options.clock(), context.options.maxPayloadBytes);
  try {
    const keys = context.keys.env(snapshot.orgId, snapshot.envId);
    const idempotencyKey =
      snapshot.options.idempotencyKey === undefined
        ? undefined
        : context.keys.idempotency(
            snapshot.orgId,
            snapshot.envId,
            snapshot.taskId,
            snapshot.options.idempotencyKey,
          );
    return { snapshot, text, keys, runField: encodeSegment(snapshot.runId, "runId"), idempotencyKey };
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

/** Parses one accept reply (shared by the single and batch scripts). */
export function parseAcceptReply(script: string, raw: unknown, runId: string): AcceptResult {
  const reply = replyArray(script, raw);
  const outcome = replyString(script, reply[0]);
  switch (outcome) {
    case "accepted":
      return { outcome, runId, position: replyNumber(script, reply[1]) };
    case "duplicate_run":
      return { outcome, runId };
    case "duplicate_idempotency":
      return { outcome, runId: decodeSegment(replyString(script, reply[1])) };
    case "over_capacity": {
      const scope = replyString(script, reply[1]);
      if (scope !== "env" && scope !== "org") throw new UnexpectedReplyError(script, raw);
      return {
        outcome,
        runId,
        scope,
        depth: replyNumber(script, reply[2]),
        limit: replyNumber(script, reply[3]),
      };
    }
    default:
      throw new UnexpectedReplyError(script, raw);
  }
}

/** Runs the single-accept script for a prepared input. */
export async function acceptPrepared(
  context: BufferContext,
  prepared: PreparedAccept,
): Promise<AcceptResult> {
  const { keys, snapshot } = prepared;
  // Requests accept concurrently: their calls of one turn share a socket write.
  coalesceWritesThisTurn(context.redis);
  const raw = await runLuaScript(
    context.redis,
    acceptScript,
    [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, keys.depth, prepared.idempotencyKey ?? keys.entries],
    [
      prepared.runField,
      prepared.text,
      keys.org,
      keys.env,
      keys.orgDepthField,
      keys.envDepthField,
      context.options.maxEnvDepth ?? 0,
      context.options.maxOrgDepth ?? 0,
      prepared.idempotencyKey === undefined ? "" : "1",
      snapshot.options.idempotencyKeyExpiresAt ?? 0,
    ],
  );
  return parseAcceptReply(acceptScript.name, raw, snapshot.runId);
}

/**
 * Buffers one trigger at the tail of its env queue: idempotent on run id and
 * on (env, task, idempotency key), bounded by the optional depth caps.
 * Throws {@link BufferInputError} for invalid input, before any write.
 */
export async function accept(context: BufferContext, input: AcceptInput): Promise<AcceptResult> {
  return acceptPrepared(context, prepareAccept(context, input));
}
