import { answeredWithin } from "@mollifier/core";
import type { BufferContext } from "./buffer-options.js";
import { withValidIds } from "./entry-keys.js";
import { decodeSegment } from "./keys.js";
import type { RedisClient } from "./lua-script.js";
import { UnexpectedReplyError } from "./reply.js";
import { ActiveSet, type ShardFailure, shardFailure } from "./shard-failure.js";

/** All shard numbers, `0 … shardCount - 1`. */
export function shards(context: BufferContext): number[] {
  return context.keys.shards();
}

/** Orgs of a shard with at least one entry ready to lease (kept exact by the queue scripts). */
export async function activeOrgs(context: BufferContext, shard: number): Promise<string[]> {
  const members = await context.redis.smembers(withValidIds(() => context.keys.shard(shard)).orgs);
  return members.map(decodeSegment).sort();
}

/** Envs of an org with at least one entry ready to lease (kept exact by the queue scripts). */
export async function activeEnvs(context: BufferContext, orgId: string): Promise<string[]> {
  const members = await context.redis.smembers(withValidIds(() => context.keys.orgEnvs(orgId)));
  return members.map(decodeSegment).sort();
}

type SetRead = { ok: true; members: string[] } | { ok: false; error: unknown };

/**
 * How long a cluster read of one shard's set is waited for. A healthy master
 * answers `SMEMBERS` in about a millisecond; a dead one leaves the command
 * unanswered until the client gives up on it, which takes as long as the
 * failover (seconds). Past this the shard counts as unavailable for the round,
 * and the other shards' orgs are served.
 */
export const SHARD_READ_TIMEOUT_MS = 500;

/** The error a shard read ends with when its master has not answered in time. */
export class ShardReadTimeoutError extends Error {
  constructor(key: string, waitedMs: number) {
    super(`no answer to SMEMBERS ${key} within ${waitedMs} ms (its master is down or failing over)`);
    this.name = "ShardReadTimeoutError";
  }
}

// Cluster reads still on the wire, per client and key. A key whose last read is
// unanswered is not waited for again: each round after the first one that met a
// dead master skips it at once, until that read settles.
const unansweredReads = new WeakMap<RedisClient, Set<string>>();

function readWithin(redis: RedisClient, key: string, timeoutMs: number): Promise<SetRead> {
  let unanswered = unansweredReads.get(redis);
  if (unanswered === undefined) {
    unanswered = new Set();
    unansweredReads.set(redis, unanswered);
  }
  const readsOut = unanswered;
  if (readsOut.has(key)) {
    return Promise.resolve({ ok: false, error: new ShardReadTimeoutError(key, timeoutMs) });
  }
  const read = redis.smembers(key).then(
    (members): SetRead => ({ ok: true, members }),
    (error: unknown): SetRead => ({ ok: false, error }),
  );
  readsOut.add(key);
  void read.then(() => readsOut.delete(key));
  // A read that fails resolves to its error (SetRead), so only the deadline rejects.
  return answeredWithin(read, timeoutMs, () => new ShardReadTimeoutError(key, timeoutMs)).catch(
    (error: unknown): SetRead => ({ ok: false, error }),
  );
}

/**
 * Reads many sets at once, each answer on its own so one unreachable node
 * fails only its own sets. On a single Redis they go out as one pipeline (one
 * write, one round trip); a cluster client sends one `SMEMBERS` per set, since
 * the sets sit in different slots (and often on different masters), and waits
 * for each at most {@link SHARD_READ_TIMEOUT_MS}.
 */
async function membersOfAll(redis: RedisClient, keys: readonly string[]): Promise<SetRead[]> {
  if (redis.isCluster) {
    return Promise.all(keys.map((key) => readWithin(redis, key, SHARD_READ_TIMEOUT_MS)));
  }
  if (keys.length < 2) {
    return Promise.all(
      keys.map((key) =>
        redis.smembers(key).then(
          (members): SetRead => ({ ok: true, members }),
          (error: unknown): SetRead => ({ ok: false, error }),
        ),
      ),
    );
  }
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.smembers(key);
  const replies = (await pipeline.exec()) ?? [];
  return keys.map((key, index): SetRead => {
    const [error, members] = replies[index] ?? [new Error(`no reply for SMEMBERS ${key}`), undefined];
    if (error) return { ok: false, error };
    if (!Array.isArray(members) || !members.every((member) => typeof member === "string")) {
      return { ok: false, error: new UnexpectedReplyError(`SMEMBERS ${key}`, members) };
    }
    return { ok: true, members };
  });
}

/**
 * Every active org (shard by shard, sorted inside a shard) with its active
 * envs (sorted): the whole active set a drainer's scheduling round needs, in
 * two round trips on a single Redis instead of one per shard and per org.
 * A shard that cannot be read (its master is failing over) is listed in
 * `unavailableShards` and the others are answered: one master down stops only
 * its own shards. Throws only when no shard could be read.
 */
export async function activeSet(context: BufferContext): Promise<ActiveSet> {
  const { keys, redis } = context;
  const shardNumbers = keys.shards();
  const orgReads = await membersOfAll(
    redis,
    shardNumbers.map((shard) => keys.shard(shard).orgs),
  );
  const unavailable: ShardFailure[] = [];
  const orgs: string[] = [];
  orgReads.forEach((read, index) => {
    const shard = shardNumbers[index] ?? index;
    if (read.ok) orgs.push(...read.members.map(decodeSegment).sort());
    else unavailable.push(shardFailure(shard, keys.shard(shard).tag, "reading the active orgs", read.error));
  });
  if (unavailable.length === shardNumbers.length && unavailable[0]) throw unavailable[0].error;
  const unique = [...new Set(orgs)];
  const envReads = await membersOfAll(
    redis,
    unique.map((orgId) => keys.orgEnvs(orgId)),
  );
  const active: Array<[string, string[]]> = [];
  envReads.forEach((read, index) => {
    const orgId = unique[index] as string;
    if (read.ok) {
      active.push([orgId, read.members.map(decodeSegment).sort()]);
      return;
    }
    const shard = keys.shardOf(orgId);
    // The org's shard went away between the two reads: it is listed once, with the first error.
    if (!unavailable.some((failure) => failure.shard === shard)) {
      unavailable.push(shardFailure(shard, keys.shard(shard).tag, "reading the active envs", read.error));
    }
  });
  return new ActiveSet(active, unavailable);
}
