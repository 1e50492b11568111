import type { BufferContext } from "./buffer-options.js";
import { type EntryKeys, entryKeys } from "./entry-keys.js";
import { splitEntryValue } from "./entry-value.js";
import { failedEntryKeys } from "./fail.js";
import { failExpiredLeaseScript, promoteRetryScript, reapLeaseScript } from "./generated/lua-scripts.js";
import { snapshotIdempotencyKey } from "./idempotency-index.js";
import type { EntryAddress } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyString, UnexpectedReplyError } from "./reply.js";
import { eachShard, type ShardFailure } from "./shard-failure.js";
import { decodeSnapshot } from "./snapshot.js";

/** Default most members one sweep handles per shard. */
export const DEFAULT_SWEEP_LIMIT = 100;

/** What `reapExpiredLeases` / `promoteDueRetries` take. */
export interface SweepOptions {
  /**
   * Most members handled per shard in one call.
   * @default 100
   */
  limit?: number;
}

/** An entry the lease reaper failed because its expired lease used up `retry.maxAttempts`. */
export interface ReapedFailure extends EntryAddress {
  /** Deliveries made, the expired one included. */
  readonly attempts: number;
  /** The error text kept on its FAILED record (kind `attempts_exhausted`). */
  readonly error: string;
}

/** What `reapExpiredLeases` answers. */
export interface ReapResult {
  /** Shards that could not be swept this time (their master is failing over); the others were. */
  unavailableShards: ShardFailure[];
  /** Expired leases returned to the head of their queue. */
  reaped: number;
  /** Expired leases failed (kind `attempts_exhausted`) instead, because their attempts were used up. */
  failed: number;
  /** The failed entries, one per count in `failed`. */
  failedEntries: ReapedFailure[];
}

type LeaseOutcome =
  | { outcome: "reaped" }
  | { outcome: "skipped" }
  | { outcome: "failed"; failure: ReapedFailure };

async function redisNow(context: BufferContext): Promise<number> {
  try {
    const [seconds, micros] = await context.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  } catch {
    // A cluster sends TIME to any node, perhaps the one that is down. The scripts re-check
    // each member against the server's own clock, so the local clock only picks candidates.
    return Date.now();
  }
}

// Reads due members with ZRANGEBYSCORE, then moves each with a per-member
// script that re-checks its score, so concurrent sweepers and a late
// extendLease / ack are harmless. Shard by shard: a shard that fails is
// answered in `unavailable` and the others are swept.
async function sweep<T>(
  context: BufferContext,
  set: "leases" | "retries",
  options: SweepOptions | undefined,
  move: (member: string, setKey: string) => Promise<T>,
): Promise<{ moved: T[]; unavailable: ShardFailure[] }> {
  const limit = options?.limit ?? DEFAULT_SWEEP_LIMIT;
  const now = await redisNow(context);
  const { results, unavailable } = await eachShard(context, `sweeping ${set}`, async (shard) => {
    const key = context.keys.shard(shard)[set];
    const members = await context.redis.zrangebyscore(key, "-inf", now, "LIMIT", 0, limit);
    // One member after another: each goes to the head of its queue, so the
    // order they are moved in is the order they end up in.
    const moved: T[] = [];
    for (const member of members) moved.push(await move(member, key));
    return moved;
  });
  return { moved: results, unavailable };
}

function exhaustionError(attempts: number): string {
  return `lease expired without an ack on ${attempts} deliveries (attempts exhausted)`;
}

async function failExpiredLease(
  context: BufferContext,
  address: EntryAddress,
  entry: EntryKeys,
  snapshotText: string,
): Promise<LeaseOutcome> {
  const { keys, runField, member } = entry;
  const decoded = decodeSnapshot(address, snapshotText);
  const idempotencyKey = snapshotIdempotencyKey(
    context.keys,
    address,
    decoded.ok ? decoded.snapshot : undefined,
  );
  const maxAttempts = context.options.retry.maxAttempts;
  const script = failExpiredLeaseScript.name;
  const raw = await runLuaScript(
    context.redis,
    failExpiredLeaseScript,
    failedEntryKeys(context, address, keys, idempotencyKey),
    [
      runField,
      member,
      maxAttempts,
      // The attempts stored are read inside the script; the text names the bound they reached.
      exhaustionError(maxAttempts),
      context.options.failedRetentionMs,
      keys.orgDepthField,
      keys.envDepthField,
      idempotencyKey === undefined ? "" : "1",
      context.options.failureReportRetryMs,
    ],
  );
  const reply = replyArray(script, raw);
  const outcome = replyString(script, reply[0]);
  if (outcome === "skipped") return { outcome };
  if (outcome === "failed") {
    const attempts = replyNumber(script, reply[1]);
    return { outcome, failure: { ...address, attempts, error: exhaustionError(maxAttempts) } };
  }
  throw new UnexpectedReplyError(script, raw);
}

async function reapLease(context: BufferContext, member: string, leasesKey: string): Promise<LeaseOutcome> {
  const address = context.keys.parseEntryMember(member);
  const entry = entryKeys(context.keys, address);
  const { keys, runField } = entry;
  const script = reapLeaseScript.name;
  const raw = await runLuaScript(
    context.redis,
    reapLeaseScript,
    [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, leasesKey],
    [runField, member, keys.org, keys.env, context.options.retry.maxAttempts],
  );
  const reply = replyArray(script, raw);
  const outcome = replyString(script, reply[0]);
  if (outcome === "reaped" || outcome === "skipped") return { outcome };
  if (outcome === "exhausted") {
    const { snapshotText } = splitEntryValue(script, replyString(script, reply[1]));
    return failExpiredLease(context, address, entry, snapshotText);
  }
  throw new UnexpectedReplyError(script, raw);
}

/**
 * Returns leases whose deadline (Redis `TIME`) has passed to the head of their
 * env queue with `attempts + 1`: the delivery of a crashed consumer is retried.
 * A lease whose expiry uses up `retry.maxAttempts` (the bound `retry` answers
 * `exhausted` at) is failed instead, kind `attempts_exhausted`, with a FAILED
 * record like `fail`'s: an entry that crashes its consumer every time is not
 * delivered forever. Shard by shard: a shard that cannot be swept (its master
 * is failing over) is named in `unavailableShards` and the others are swept;
 * it throws only when no shard could be.
 */
export async function reapExpiredLeases(context: BufferContext, options?: SweepOptions): Promise<ReapResult> {
  const { moved, unavailable } = await sweep(context, "leases", options, (member, key) =>
    reapLease(context, member, key),
  );
  const result: ReapResult = { reaped: 0, failed: 0, failedEntries: [], unavailableShards: unavailable };
  for (const outcome of moved) {
    if (outcome.outcome === "reaped") result.reaped += 1;
    if (outcome.outcome === "failed") {
      result.failed += 1;
      result.failedEntries.push(outcome.failure);
    }
  }
  return result;
}

/** What `promoteDueRetries` answers. */
export interface PromoteResult {
  promoted: number;
  /** Shards that could not be swept this time; the others were. */
  unavailableShards: ShardFailure[];
}

/**
 * Moves retries that are due (Redis `TIME`) back to the head of their env queue,
 * shard by shard like {@link reapExpiredLeases}.
 */
export async function promoteDueRetries(
  context: BufferContext,
  options?: SweepOptions,
): Promise<PromoteResult> {
  const { moved, unavailable } = await sweep(context, "retries", options, async (member, key) => {
    const address = context.keys.parseEntryMember(member);
    const { keys, runField } = entryKeys(context.keys, address);
    const raw = await runLuaScript(
      context.redis,
      promoteRetryScript,
      [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, key],
      [runField, member, keys.org, keys.env],
    );
    return replyNumber(promoteRetryScript.name, raw);
  });
  return { promoted: moved.reduce((sum, value) => sum + value, 0), unavailableShards: unavailable };
}
