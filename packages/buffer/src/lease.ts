import { randomBytes } from "node:crypto";
import type { BufferContext } from "./buffer-options.js";
import { entryKeys, envKeys, leaseMember } from "./entry-keys.js";
import { MISSING_ACCEPT_TIME_ERROR, parseEntryValue } from "./entry-value.js";
import { type EntryMutations, type LeasedEntry, toEntryMutations } from "./entry-view.js";
import { BufferInputError } from "./errors.js";
import { failEntry } from "./fail.js";
import { decodeMutationFields } from "./generated/entry-record.js";
import { extendLeaseScript, leaseScript } from "./generated/lua-scripts.js";
import { decodeSegment } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyOptionalNumber, replyString, UnexpectedReplyError } from "./reply.js";
import { decodeSnapshot } from "./snapshot.js";

/** Most entries one `lease` call may take. */
export const MAX_LEASE_COUNT = 1_000;

// One leased entry in lease-5.lua's reply: these, then the mutation fields (when it was mutated).
const LEASED_RUN = 0;
const LEASED_VALUE = 1;
const LEASED_ATTEMPTS = 2;
const LEASED_MUTATIONS = 3;

/** What `lease` takes. */
export interface LeaseRequest {
  orgId: string;
  envId: string;
  /** Most entries to lease, 1 … {@link MAX_LEASE_COUNT}. */
  count: number;
  /** Lease length; defaults to the buffer's `leaseMs`. */
  leaseMs?: number;
}

/** What `lease` answers. */
export interface LeaseResult<Payload = unknown> {
  entries: LeasedEntry<Payload>[];
  /** Entries whose snapshot no longer parses; the buffer failed them (kind `invalid_entry`). */
  invalid: Array<{ runId: string; error: string }>;
}

/** What `extendLease` answers. */
export type ExtendLeaseResult = { outcome: "extended"; leaseDeadline: number } | { outcome: "lease_lost" };

function leaseLength(context: BufferContext, leaseMs: number | undefined): number {
  const value = leaseMs ?? context.options.leaseMs;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BufferInputError("INVALID_INPUT", `leaseMs must be a positive integer, got ${String(value)}`);
  }
  return value;
}

// From the OS's CSPRNG, not the injectable jitter source: a token another
// holder could guess would let a stale consumer ack or fail a lease it lost.
function leaseToken(): string {
  return randomBytes(16).toString("hex");
}

/**
 * Leases up to `count` entries of one env in one script call: they leave the
 * queue for the lease set, scored by a deadline of Redis `TIME` + `leaseMs`.
 * Entries whose snapshot no longer parses are failed (`invalid_entry`) and
 * reported in `invalid`, so they never block the queue.
 */
export async function lease(context: BufferContext, request: LeaseRequest): Promise<LeaseResult> {
  const { count } = request;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_LEASE_COUNT) {
    throw new BufferInputError("INVALID_INPUT", `count must be an integer from 1 to ${MAX_LEASE_COUNT}`);
  }
  const leaseMs = leaseLength(context, request.leaseMs);
  const keys = envKeys(context.keys, request.orgId, request.envId);
  const token = leaseToken();
  const script = leaseScript.name;
  const raw = replyArray(
    script,
    await runLuaScript(
      context.redis,
      leaseScript,
      [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, keys.leases],
      // The member prefix: a member with an empty run field.
      [count, leaseMs, keys.org, keys.env, leaseMember(keys, ""), token],
    ),
  );
  const leaseDeadline = replyNumber(script, raw[0]);
  const result: LeaseResult = { entries: [], invalid: [] };
  const failures: Array<Promise<unknown>> = [];
  for (let index = 1; index < raw.length; index++) {
    const fields = replyArray(script, raw[index]);
    const runId = decodeSegment(replyString(script, fields[LEASED_RUN]));
    const address = { orgId: request.orgId, envId: request.envId, runId };
    const value = parseEntryValue(replyString(script, fields[LEASED_VALUE]));
    const decoded =
      value === undefined
        ? { ok: false as const, error: MISSING_ACCEPT_TIME_ERROR }
        : decodeSnapshot(address, value.snapshotText);
    // Failing it keeps the rest of the batch deliverable; the entry is already leased here.
    if (value === undefined || !decoded.ok) {
      const error = decoded.ok ? MISSING_ACCEPT_TIME_ERROR : decoded.error;
      result.invalid.push({ runId, error });
      failures.push(failEntry(context, address, token, { error, kind: "invalid_entry" }, undefined, true));
      continue;
    }
    const mutations: EntryMutations = toEntryMutations(
      decodeMutationFields(script, fields, LEASED_MUTATIONS),
    );
    // Written out rather than spread from `address`: a spread here costs more
    // than the rest of the entry's decoding on the drain hot path.
    result.entries.push({
      orgId: request.orgId,
      envId: request.envId,
      runId,
      leaseToken: token,
      leaseDeadline,
      attempts: replyOptionalNumber(script, fields[LEASED_ATTEMPTS]) ?? 0,
      acceptedAt: value.acceptedAt,
      snapshot: decoded.snapshot,
      mutations,
    });
  }
  await Promise.all(failures);
  return result;
}

/** Moves a held lease's deadline to Redis `TIME` + `leaseMs`; `lease_lost` when the lease is no longer this holder's. */
export async function extendLease(
  context: BufferContext,
  entry: Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken">,
  leaseMs?: number,
): Promise<ExtendLeaseResult> {
  const length = leaseLength(context, leaseMs);
  const { keys, runField, member } = entryKeys(context.keys, entry);
  const script = extendLeaseScript.name;
  const raw = await runLuaScript(
    context.redis,
    extendLeaseScript,
    [keys.entries, keys.leases],
    [runField, member, entry.leaseToken, length],
  );
  const reply = replyArray(script, raw);
  const outcome = replyString(script, reply[0]);
  if (outcome === "extended") return { outcome, leaseDeadline: replyNumber(script, reply[1]) };
  if (outcome === "lease_lost") return { outcome };
  throw new UnexpectedReplyError(script, raw);
}
