import type { BufferContext } from "./buffer-options.js";
import { withValidIds } from "./entry-keys.js";
import { decodeSegment } from "./keys.js";
import type { RedisClient } from "./lua-script.js";
import { UnexpectedReplyError } from "./reply.js";

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

/**
 * Reads many sets at once. On a single Redis they go out as one pipeline (one
 * write, one round trip); a cluster client sends one `SMEMBERS` per set, since
 * the sets sit in different slots.
 */
async function membersOfAll(redis: RedisClient, keys: readonly string[]): Promise<string[][]> {
  if (redis.isCluster || keys.length < 2) return Promise.all(keys.map((key) => redis.smembers(key)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.smembers(key);
  const replies = (await pipeline.exec()) ?? [];
  return keys.map((key, index) => {
    const [error, members] = replies[index] ?? [new Error(`no reply for SMEMBERS ${key}`), undefined];
    if (error) throw error;
    if (!Array.isArray(members) || !members.every((member) => typeof member === "string")) {
      throw new UnexpectedReplyError(`SMEMBERS ${key}`, members);
    }
    return members;
  });
}

/**
 * Every active org (shard by shard, sorted inside a shard) with its active
 * envs (sorted): the whole active set a drainer's scheduling round needs, in
 * two round trips on a single Redis instead of one per shard and per org.
 */
export async function activeSet(context: BufferContext): Promise<Map<string, string[]>> {
  const { keys, redis } = context;
  const orgLists = await membersOfAll(
    redis,
    keys.shards().map((shard) => keys.shard(shard).orgs),
  );
  const orgs = [...new Set(orgLists.flatMap((members) => members.map(decodeSegment).sort()))];
  const envLists = await membersOfAll(
    redis,
    orgs.map((orgId) => keys.orgEnvs(orgId)),
  );
  return new Map(orgs.map((orgId, index) => [orgId, (envLists[index] ?? []).map(decodeSegment).sort()]));
}
