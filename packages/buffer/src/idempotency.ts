import { BufferInputError } from "./errors.js";
import { lookupIdempotencyScript, resetIdempotencyScript } from "./generated/lua-scripts.js";
import { type BufferKeys, decodeSegment } from "./keys.js";
import { type RedisClient, runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";

/** What the idempotency-index operations need from the buffer (a subset of the buffer's context). */
export interface IdempotencyContext {
  readonly redis: RedisClient;
  readonly keys: BufferKeys;
}

/** Names one idempotency key: (org, env, task, idempotency key). */
export interface IdempotencyAddress {
  orgId: string;
  envId: string;
  taskId: string;
  idempotencyKey: string;
}

/** What `lookupIdempotency` answers. */
export type LookupIdempotencyResult = { outcome: "found"; runId: string } | { outcome: "not_found" };

/** What `resetIdempotency` answers; `busy` and `not_found` changed nothing (apart from healing). */
export type ResetIdempotencyResult =
  | { outcome: "reset"; runId: string }
  | { outcome: "busy" }
  | { outcome: "not_found" };

/** The index key and the entries hash it points into (same org, env and slot). */
function indexKeys(context: IdempotencyContext, address: IdempotencyAddress): [string, string] {
  try {
    const { orgId, envId, taskId, idempotencyKey } = address;
    return [
      context.keys.idempotency(orgId, envId, taskId, idempotencyKey),
      context.keys.env(orgId, envId).entries,
    ];
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

/**
 * Finds the buffered run holding (org, env, task, idempotency key). Self-healing:
 * an index naming a run that is no longer in its env's entries hash is deleted,
 * and the lookup answers `not_found`, so a lost entry never blocks its key.
 */
export async function lookupIdempotency(
  context: IdempotencyContext,
  address: IdempotencyAddress,
): Promise<LookupIdempotencyResult> {
  const raw = await runLuaScript(context.redis, lookupIdempotencyScript, indexKeys(context, address), []);
  const reply = replyArray(lookupIdempotencyScript.name, raw);
  switch (replyString(lookupIdempotencyScript.name, reply[0])) {
    case "found":
      return { outcome: "found", runId: decodeSegment(replyString(lookupIdempotencyScript.name, reply[1])) };
    case "not_found":
    case "stale":
      return { outcome: "not_found" };
    default:
      throw new UnexpectedReplyError(lookupIdempotencyScript.name, raw);
  }
}

/**
 * Releases an idempotency key held by a buffered run, so the next trigger with
 * that key starts a new run: deletes the index and marks the run
 * `idempotencyReset`. Answers `busy` while the run is leased (being written to
 * the database with its key; retry once it landed there) and `not_found` when
 * no buffered run holds the key.
 */
export async function resetIdempotency(
  context: IdempotencyContext,
  address: IdempotencyAddress,
): Promise<ResetIdempotencyResult> {
  const raw = await runLuaScript(context.redis, resetIdempotencyScript, indexKeys(context, address), []);
  const reply = replyArray(resetIdempotencyScript.name, raw);
  switch (replyString(resetIdempotencyScript.name, reply[0])) {
    case "reset":
      return { outcome: "reset", runId: decodeSegment(replyString(resetIdempotencyScript.name, reply[1])) };
    case "busy":
      return { outcome: "busy" };
    case "not_found":
      return { outcome: "not_found" };
    default:
      throw new UnexpectedReplyError(resetIdempotencyScript.name, raw);
  }
}
