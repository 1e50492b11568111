import type { Cluster, Redis } from "ioredis";
import { BufferReshardError } from "./errors.js";
import { reshardAddTotalScript } from "./generated/lua-scripts.js";
import { decodeSegment, fnv1a32 } from "./keys.js";
import { type RedisClient, runLuaScript } from "./lua-script.js";
import { fenceKeyOfTag } from "./shard-fence.js";

/** Keys read or written per pipeline while a shard moves. */
const KEYS_PER_PIPELINE = 200;
const SCAN_COUNT = 1_000;
/** Keys of a shard that belong to no org (see `keys.ts`). */
const SHARD_LEVEL = new Set(["orgs", "leases", "retries", "unreported", "depth"]);
/** A reshard's own bookkeeping in a shard: never copied. */
const BOOKKEEPING = new Set(["fence", "reshard-in"]);

/** One move of a reshard: the old layout's shard count, the new one's, and the two tag lists. */
export interface ReshardPlan {
  readonly from: number;
  readonly to: number;
  readonly fromTags: readonly string[];
  readonly toTags: readonly string[];
}

/** `"<from>><to>"`, written in fences and refusals. */
export function reshardName(plan: Pick<ReshardPlan, "from" | "to">): string {
  return `${plan.from}>${plan.to}`;
}

async function scanNode(node: Redis, pattern: string, found: Set<string>): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
    for (const key of keys) found.add(key);
    cursor = next;
  } while (cursor !== "0");
}

/**
 * Every key of the shard tagged `tag`: `SCAN … MATCH {tag}:*` on a single Redis, on every master
 * of a cluster (only the slot's owner holds any). Called with the shard fenced, so no key is
 * created while it runs; `SCAN` returns every key that exists throughout.
 */
export async function shardKeysOf(redis: RedisClient, tag: string): Promise<string[]> {
  // `{` and `}` are not glob characters; `*`, `?`, `[` and `\` never occur in a tag.
  const pattern = `${tag}:*`;
  const found = new Set<string>();
  if (redis.isCluster) {
    await Promise.all((redis as Cluster).nodes("master").map((node) => scanNode(node, pattern, found)));
  } else {
    await scanNode(redis as Redis, pattern, found);
  }
  return [...found].sort();
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

interface Destination {
  readonly shard: number;
  readonly tag: string;
  readonly keys: Array<{ readonly name: string; readonly from: string }>;
  readonly orgs: string[];
  readonly leases: string[];
  readonly retries: string[];
  readonly unreported: string[];
  readonly depthFields: string[];
  total: number;
}

/**
 * Copies every key of old shard `shard` into the new layout, each org's keys into the org's new
 * shard: org keys (`<kind>:<org>…`) whole with `DUMP`/`RESTORE … REPLACE` (keeping their TTL),
 * the shard-wide sets and depth fields split by org and merged. Idempotent while the old shard
 * is fenced (it cannot change): a resumed reshard copies it again. Answers the keys read.
 */
export async function copyShard(redis: RedisClient, plan: ReshardPlan, shard: number): Promise<string[]> {
  const tag = plan.fromTags[shard];
  if (tag === undefined) throw new RangeError(`no shard ${shard} in a layout of ${plan.from}`);
  const keys = (await shardKeysOf(redis, tag)).filter((key) => !BOOKKEEPING.has(key.slice(tag.length + 1)));
  const destinations = new Map<number, Destination>();
  const destinationOf = (encodedOrg: string): Destination => {
    const target = fnv1a32(decodeSegment(encodedOrg)) % plan.to;
    let destination = destinations.get(target);
    if (destination === undefined) {
      const targetTag = plan.toTags[target] as string;
      destination = {
        shard: target,
        tag: targetTag,
        keys: [],
        orgs: [],
        leases: [],
        retries: [],
        unreported: [],
        depthFields: [],
        total: 0,
      };
      destinations.set(target, destination);
    }
    return destination;
  };
  const prefix = tag.length + 1;
  for (const key of keys) {
    const rest = key.slice(prefix);
    if (SHARD_LEVEL.has(rest)) continue;
    const [, org] = rest.split(":");
    if (org === undefined || org === "") {
      throw new BufferReshardError(
        "RESHARD_REFUSED",
        `reshard ${reshardName(plan)}: ${key} belongs to no org; cannot place it`,
      );
    }
    destinationOf(org).keys.push({ name: `${destinationOf(org).tag}:${rest}`, from: key });
  }
  const [orgs, leases, retries, unreported, depth] = await Promise.all([
    redis.smembers(`${tag}:orgs`),
    redis.zrange(`${tag}:leases`, 0, -1, "WITHSCORES"),
    redis.zrange(`${tag}:retries`, 0, -1, "WITHSCORES"),
    redis.zrange(`${tag}:unreported`, 0, -1, "WITHSCORES"),
    redis.hgetall(`${tag}:depth`),
  ]);
  for (const org of orgs) destinationOf(org).orgs.push(org);
  const splitScored = (flat: string[], pick: (destination: Destination) => string[]) => {
    for (let index = 0; index + 1 < flat.length; index += 2) {
      const member = flat[index] as string;
      const score = flat[index + 1] as string;
      pick(destinationOf(member.split(":")[0] as string)).push(score, member);
    }
  };
  splitScored(leases, (destination) => destination.leases);
  splitScored(retries, (destination) => destination.retries);
  splitScored(unreported, (destination) => destination.unreported);
  for (const [field, value] of Object.entries(depth)) {
    if (field === "total") continue;
    const [kind, org] = field.split(":");
    if ((kind !== "org" && kind !== "env") || org === undefined) {
      throw new BufferReshardError(
        "RESHARD_REFUSED",
        `reshard ${reshardName(plan)}: unknown depth field ${field} in ${tag}:depth`,
      );
    }
    const destination = destinationOf(org);
    destination.depthFields.push(field, value);
    if (kind === "org") destination.total += Number(value);
  }
  for (const destination of destinations.values()) await copyInto(redis, plan, shard, destination);
  return keys;
}

async function copyInto(
  redis: RedisClient,
  plan: ReshardPlan,
  shard: number,
  destination: Destination,
): Promise<void> {
  for (const group of chunks(destination.keys, KEYS_PER_PIPELINE)) {
    const read = redis.pipeline();
    for (const key of group) read.pttl(key.from).dumpBuffer(key.from);
    const replies = (await read.exec()) ?? [];
    const write = redis.pipeline();
    let writes = 0;
    group.forEach((key, index) => {
      const [ttlError, ttl] = replies[index * 2] ?? [];
      const [dumpError, payload] = replies[index * 2 + 1] ?? [];
      if (ttlError || dumpError) throw ttlError ?? dumpError;
      // Gone since the scan (a claim or FAILED record that expired): nothing to copy.
      if (!Buffer.isBuffer(payload) || ttl === -2) return;
      write.restore(key.name, typeof ttl === "number" && ttl > 0 ? ttl : 0, payload, "REPLACE");
      writes += 1;
    });
    if (writes > 0) await execAll(write);
  }
  const tag = destination.tag;
  const merge = redis.pipeline();
  let merges = 0;
  for (const orgs of chunks(destination.orgs, KEYS_PER_PIPELINE)) {
    merge.sadd(`${tag}:orgs`, ...orgs);
    merges += 1;
  }
  for (const pairs of chunks(destination.leases, KEYS_PER_PIPELINE * 2)) {
    merge.zadd(`${tag}:leases`, ...pairs);
    merges += 1;
  }
  for (const pairs of chunks(destination.retries, KEYS_PER_PIPELINE * 2)) {
    merge.zadd(`${tag}:retries`, ...pairs);
    merges += 1;
  }
  for (const pairs of chunks(destination.unreported, KEYS_PER_PIPELINE * 2)) {
    merge.zadd(`${tag}:unreported`, ...pairs);
    merges += 1;
  }
  for (const pairs of chunks(destination.depthFields, KEYS_PER_PIPELINE * 2)) {
    merge.hset(`${tag}:depth`, ...pairs);
    merges += 1;
  }
  if (merges > 0) await execAll(merge);
  // The total is shared with the orgs already living in this shard: added once per old shard.
  await runLuaScript(
    redis,
    reshardAddTotalScript,
    [`${tag}:depth`, `${tag}:reshard-in`],
    [`${reshardName(plan)}:${shard}`, destination.total],
  );
}

async function execAll(pipeline: ReturnType<RedisClient["pipeline"]>): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/** Marks old shard `shard` `moving` (while it is copied) or `moved` (its keys now live in the new layout). */
export async function setFence(
  redis: RedisClient,
  plan: ReshardPlan,
  shard: number,
  state: "moving" | "moved",
): Promise<void> {
  await redis.set(fenceKeyOfTag(plan.fromTags[shard] as string), `${state} ${reshardName(plan)}`);
}

/** Deletes every key of old shard `shard` but its fence (after it moved). Answers how many. */
export async function deleteShard(redis: RedisClient, plan: ReshardPlan, shard: number): Promise<number> {
  const tag = plan.fromTags[shard] as string;
  const fence = fenceKeyOfTag(tag);
  const keys = (await shardKeysOf(redis, tag)).filter((key) => key !== fence);
  for (const group of chunks(keys, KEYS_PER_PIPELINE)) await redis.unlink(...group);
  return keys.length;
}
