import { BufferInputError } from "./errors.js";
import {
  claimScript,
  publishClaimScript,
  readClaimScript,
  releaseClaimScript,
  resetResolvedClaimScript,
} from "./generated/lua-scripts.js";
import { type BufferKeys, MAX_SEGMENT_BYTES } from "./keys.js";
import { type RedisClient, runLuaScript } from "./lua-script.js";
import { taggedReply, UnexpectedReplyError } from "./reply.js";

/** Longest owner token accepted, in characters. */
export const MAX_CLAIM_TOKEN_LENGTH = 256;

/** What the claim operations need from the buffer (a subset of the buffer's context). */
export interface ClaimsContext {
  readonly redis: RedisClient;
  readonly keys: BufferKeys;
  readonly options: { readonly minClaimTtlMs: number; readonly maxClaimTtlMs: number };
}

/** Names one idempotency claim: (org, env, task, idempotency key). */
export interface ClaimAddress {
  orgId: string;
  envId: string;
  taskId: string;
  idempotencyKey: string;
}

/** What `claim` takes. */
export interface ClaimInput extends ClaimAddress {
  /** The caller's owner token (unique per request, e.g. a UUID); reuse it to publish or release. */
  token: string;
  /** How long the claim holds if its owner neither publishes nor releases; clamped. */
  ttlMs: number;
}

/** What `publishClaim` takes. */
export interface PublishClaimInput extends ClaimAddress {
  /** The token the caller claimed with. */
  token: string;
  /** The run the idempotency key resolves to. */
  runId: string;
  /** How long the resolved claim answers `resolved`; clamped. */
  ttlMs: number;
}

/** What `releaseClaim` takes. */
export interface ReleaseClaimInput extends ClaimAddress {
  /** The token the caller claimed with. */
  token: string;
}

/** Another owner holds the claim; it expires in `ttlMs` unless published or released. */
export interface ClaimPending {
  outcome: "pending";
  ttlMs: number;
}

/** The key was published: `runId` is the winner's run. */
export interface ClaimResolved {
  outcome: "resolved";
  runId: string;
}

/** What `claim` answers: the caller owns the key, another owner does, or it resolved to a run. */
export type ClaimResult = { outcome: "claimed" } | ClaimPending | ClaimResolved;
/** What `readClaim` answers. */
export type ReadClaimResult = { outcome: "none" } | ClaimPending | ClaimResolved;
/** What `publishClaim` answers; `not_owner` changed nothing. */
export type PublishClaimResult = { outcome: "published" } | { outcome: "not_owner" };
/** What `releaseClaim` answers; `not_owner` changed nothing. */
export type ReleaseClaimResult = { outcome: "released" } | { outcome: "not_owner" };
/** What `resetResolvedClaim` answers; `not_resolved` changed nothing. */
export type ResetResolvedClaimResult = { outcome: "reset" } | { outcome: "not_resolved" };

/**
 * Clamps a requested claim TTL into `[minMs, maxMs]` (whole ms, rounded up), so a
 * caller can neither hold a key forever nor make waiters spin on a claim that
 * expires at once. A TTL that is not a finite number throws {@link BufferInputError}.
 */
export function clampClaimTtl(ttlMs: number, minMs: number, maxMs: number): number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs)) {
    throw new BufferInputError("INVALID_INPUT", `ttlMs must be a finite number, got ${String(ttlMs)}`);
  }
  return Math.min(maxMs, Math.max(minMs, Math.ceil(ttlMs)));
}

function checkText(name: string, value: string, maxLength: number): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw new BufferInputError(
      "INVALID_INPUT",
      `${name} must be a non-empty string of at most ${maxLength} characters`,
    );
  }
  return value;
}

function claimKey(context: ClaimsContext, address: ClaimAddress): string {
  try {
    return context.keys.claim(address.orgId, address.envId, address.taskId, address.idempotencyKey);
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

/** Parses a `{tag, ...}` reply: its tag, and readers for its fields. */
/**
 * Claims (org, env, task, idempotency key) for `token`: `claimed` when the caller
 * now owns it (claiming again with the same token renews the TTL), `pending`
 * while another owner holds it, `resolved` once the owner published its run.
 */
export async function claim(context: ClaimsContext, input: ClaimInput): Promise<ClaimResult> {
  const key = claimKey(context, input);
  const token = checkText("token", input.token, MAX_CLAIM_TOKEN_LENGTH);
  const ttlMs = clampClaimTtl(input.ttlMs, context.options.minClaimTtlMs, context.options.maxClaimTtlMs);
  const raw = await runLuaScript(context.redis, claimScript, [key], [token, ttlMs]);
  const reply = taggedReply(claimScript.name, raw);
  if (reply.tag === "claimed") return { outcome: "claimed" };
  if (reply.tag === "pending") return { outcome: "pending", ttlMs: reply.number(1) };
  if (reply.tag === "resolved") return { outcome: "resolved", runId: reply.string(1) };
  throw new UnexpectedReplyError(claimScript.name, raw);
}

/** Reads a claim: `none`, `pending` (with its remaining TTL) or `resolved` (with the run id). */
export async function readClaim(context: ClaimsContext, input: ClaimAddress): Promise<ReadClaimResult> {
  const key = claimKey(context, input);
  const raw = await runLuaScript(context.redis, readClaimScript, [key], []);
  const reply = taggedReply(readClaimScript.name, raw);
  if (reply.tag === "none") return { outcome: "none" };
  if (reply.tag === "pending") return { outcome: "pending", ttlMs: reply.number(1) };
  if (reply.tag === "resolved") return { outcome: "resolved", runId: reply.string(1) };
  throw new UnexpectedReplyError(readClaimScript.name, raw);
}

/**
 * Resolves the caller's pending claim to `runId`, only while `token` still owns
 * it; a stale owner (its claim expired and another request claimed) gets
 * `not_owner` and changes nothing. A published run id never changes:
 * publishing again answers `published` only with the same run id.
 */
export async function publishClaim(
  context: ClaimsContext,
  input: PublishClaimInput,
): Promise<PublishClaimResult> {
  const key = claimKey(context, input);
  const token = checkText("token", input.token, MAX_CLAIM_TOKEN_LENGTH);
  const runId = checkText("runId", input.runId, MAX_SEGMENT_BYTES);
  const ttlMs = clampClaimTtl(input.ttlMs, context.options.minClaimTtlMs, context.options.maxClaimTtlMs);
  const raw = await runLuaScript(context.redis, publishClaimScript, [key], [token, runId, ttlMs]);
  const reply = taggedReply(publishClaimScript.name, raw);
  if (reply.tag === "published") return { outcome: "published" };
  if (reply.tag === "not_owner") return { outcome: "not_owner" };
  throw new UnexpectedReplyError(publishClaimScript.name, raw);
}

/**
 * Deletes the claim, only while `token` still owns it, so the next claimant
 * wins at once; a late release from a stale owner gets `not_owner` and never
 * erases a newer owner's claim.
 */
export async function releaseClaim(
  context: ClaimsContext,
  input: ReleaseClaimInput,
): Promise<ReleaseClaimResult> {
  const key = claimKey(context, input);
  const token = checkText("token", input.token, MAX_CLAIM_TOKEN_LENGTH);
  const raw = await runLuaScript(context.redis, releaseClaimScript, [key], [token]);
  const reply = taggedReply(releaseClaimScript.name, raw);
  if (reply.tag === "released") return { outcome: "released" };
  if (reply.tag === "not_owner") return { outcome: "not_owner" };
  throw new UnexpectedReplyError(releaseClaimScript.name, raw);
}

/**
 * Deletes a resolved claim (used when the idempotency key is reset, so later
 * requests stop resolving to the old run); a pending claim stays with its owner.
 */
export async function resetResolvedClaim(
  context: ClaimsContext,
  input: ClaimAddress,
): Promise<ResetResolvedClaimResult> {
  const key = claimKey(context, input);
  const raw = await runLuaScript(context.redis, resetResolvedClaimScript, [key], []);
  const reply = taggedReply(resetResolvedClaimScript.name, raw);
  if (reply.tag === "reset") return { outcome: "reset" };
  if (reply.tag === "not_resolved") return { outcome: "not_resolved" };
  throw new UnexpectedReplyError(resetResolvedClaimScript.name, raw);
}
