import type { BufferContext } from "./buffer-options.js";
import { withValidIds } from "./entry-keys.js";
import { decodeSegment } from "./keys.js";

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
