import { randomBytes } from "node:crypto";
import { BufferReshardError } from "./errors.js";
import { reshardLockScript } from "./generated/lua-scripts.js";
import { BufferKeys, DEFAULT_KEY_PREFIX } from "./keys.js";
import { LAYOUT_VERSION, readStoredLayout, routingOf } from "./layout.js";
import { type RedisClient, runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyString, taggedReply } from "./reply.js";
import { copyShard, deleteShard, type ReshardPlan, reshardName, setFence } from "./reshard-shard.js";
import { fenceKeyOfTag } from "./shard-fence.js";
import { shardTags } from "./shard-tags.js";

/** Default lifetime of the reshard lock; it is renewed before every step. */
export const DEFAULT_RESHARD_LOCK_TTL_MS = 60_000;

/** Options of {@link reshard}. */
export interface ReshardOptions {
  /** The buffer's Redis (ioredis `Redis` or `Cluster`); injected, never created here. */
  redis: RedisClient;
  /** The shard count to move to, 1 … 16384. */
  to: number;
  /**
   * The buffer's key prefix.
   * @default "mollifier"
   */
  prefix?: string;
  /**
   * Move at most this many old shards, then stop (`paused`); running it again goes on. Unset: all.
   * @default undefined
   */
  maxShards?: number;
  /**
   * Lifetime of the lock that keeps two reshards apart; renewed before every step, so a crashed
   * reshard's lock lapses after it and the next run resumes.
   * @default 60000
   */
  lockTtlMs?: number;
  /** Stops the reshard between two steps (throws the signal's reason); running it again resumes. */
  signal?: AbortSignal;
  /** Called after every step, for logs and progress bars. */
  onProgress?: (progress: ReshardProgress) => void;
}

/** One step of a reshard: old shard `shard` was fenced, copied, recorded as moved in the layout record, or cleaned up. */
export interface ReshardProgress {
  readonly step: "started" | "fenced" | "copied" | "recorded" | "moved" | "finished";
  readonly from: number;
  readonly to: number;
  /** Old shards moved so far. */
  readonly movedShards: number;
  readonly shard?: number;
  /** Keys copied (step `copied`) or deleted (step `moved`). */
  readonly keys?: number;
}

/** What {@link reshard} answers. */
export type ReshardResult =
  | { outcome: "unchanged"; shardCount: number }
  | { outcome: "paused"; from: number; to: number; movedShards: number }
  | { outcome: "completed"; from: number; to: number };

function checkTo(to: unknown): number {
  if (typeof to !== "number" || !Number.isInteger(to) || to < 1 || to > 16_384) {
    throw new BufferReshardError(
      "RESHARD_REFUSED",
      `ReshardOptions.to must be an integer from 1 to 16384, got ${String(to)}`,
    );
  }
  return to;
}

async function lockCall(
  redis: RedisClient,
  key: string,
  op: string,
  token: string,
  ttlMs: number,
): Promise<void> {
  const raw = await runLuaScript(redis, reshardLockScript, [key], [op, token, ttlMs]);
  const reply = taggedReply(reshardLockScript.name, raw);
  if (reply.tag !== "taken") return;
  const fields = replyArray(reshardLockScript.name, raw);
  const pttl = replyNumber(reshardLockScript.name, fields[2]);
  throw new BufferReshardError(
    "RESHARD_REFUSED",
    op === "refresh"
      ? `the reshard lock ${key} lapsed or was taken over; stopped between two steps (run it again to resume)`
      : `another reshard holds ${key} (token ${replyString(reshardLockScript.name, fields[1])}) for ${pttl} ms more; wait for it, or for its lock to lapse if it crashed`,
  );
}

/**
 * Changes a buffer's shard count live (ADR 15): moves every key of every old shard (entries,
 * queues, leases, retries, idempotency keys, claims, FAILED records, depth counters) into the
 * new layout while processes accept and drain. One old shard at a time: its fence (`{tag}:fence`)
 * is set to `moving`, so every buffer script refuses it and callers wait; its keys are copied,
 * each org's to its new shard; the layout record's `reshardMoved` counts it, so processes route
 * its orgs to the new layout; the fence turns `moved` (a process that has not re-read the record
 * re-routes on its next call) and the old keys are deleted. When every shard has moved the record
 * holds the new shard count. Progress lives in Redis: after a crash, running it again goes on
 * where it stopped. A lock keeps two reshards apart.
 *
 * @example
 * const result = await reshard({ redis, to: 64 });
 * // { outcome: "completed", from: 16, to: 64 }
 */
export async function reshard(options: ReshardOptions): Promise<ReshardResult> {
  const { redis, signal, onProgress } = options;
  const to = checkTo(options.to);
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const keys = new BufferKeys({ prefix, shardCount: to });
  const layoutKey = keys.layout();
  const lockKey = `{${prefix}}:reshard-lock`;
  const lockTtlMs = options.lockTtlMs ?? DEFAULT_RESHARD_LOCK_TTL_MS;
  const token = randomBytes(12).toString("hex");
  await lockCall(redis, lockKey, "acquire", token, lockTtlMs);
  // Renewed between steps and, for a long copy, on a timer in between; a renewal that finds the
  // lock gone stops the run at its next step.
  let lockLost: unknown;
  const keepAlive = setInterval(
    () => {
      lockCall(redis, lockKey, "refresh", token, lockTtlMs).catch((error: unknown) => {
        lockLost ??= error;
      });
    },
    Math.max(1, Math.floor(lockTtlMs / 3)),
  );
  keepAlive.unref();
  const step = async () => {
    signal?.throwIfAborted();
    if (lockLost !== undefined) throw lockLost;
    await lockCall(redis, lockKey, "refresh", token, lockTtlMs);
  };
  try {
    const stored = await readStoredLayout({ redis, keys });
    const routing = stored === undefined ? undefined : routingOf(stored);
    if (stored === undefined || routing === undefined) {
      throw new BufferReshardError(
        "RESHARD_REFUSED",
        stored === undefined
          ? `no layout record at ${layoutKey}: start a process of the buffer (it stores one), or start it with shardCount ${to}`
          : `the layout record at ${layoutKey} (version ${stored.version}, tag scheme ${stored.tagScheme}) is not one this release can reshard`,
      );
    }
    if (routing.reshardTo !== undefined && routing.reshardTo !== to) {
      throw new BufferReshardError(
        "RESHARD_REFUSED",
        `a reshard from ${routing.shardCount} to ${routing.reshardTo} shards is in progress (${routing.movedShards ?? 0} moved); finish it first with \`mollifier reshard --to ${routing.reshardTo}\``,
      );
    }
    if (routing.reshardTo === undefined && routing.shardCount === to)
      return { outcome: "unchanged", shardCount: to };
    const from = routing.shardCount;
    const plan: ReshardPlan = { from, to, fromTags: shardTags(prefix, from), toTags: shardTags(prefix, to) };
    let moved = routing.movedShards ?? 0;
    const progress = (event: Omit<ReshardProgress, "from" | "to" | "movedShards">) =>
      onProgress?.({ ...event, from, to, movedShards: moved });
    if (routing.reshardTo === undefined) {
      const shared = plan.toTags.filter((tag) => plan.fromTags.includes(tag));
      if (shared.length > 0) {
        throw new BufferReshardError(
          "RESHARD_REFUSED",
          `the layouts of ${from} and ${to} shards share the hash tag(s) ${shared.join(", ")}; reshard through another count first`,
        );
      }
      // Fences and totals left in the new layout's shards by an earlier reshard away from it.
      const stale = plan.toTags.flatMap((tag) => [fenceKeyOfTag(tag), `${tag}:reshard-in`]);
      await Promise.all(stale.map((key) => redis.del(key)));
      await redis.hset(layoutKey, "version", LAYOUT_VERSION, "reshardTo", to, "reshardMoved", 0);
    } else if (moved > 0) {
      // A run that stopped between counting a shard moved and cleaning it up: finish that.
      await step();
      await setFence(redis, plan, moved - 1, "moved");
      const deleted = await deleteShard(redis, plan, moved - 1);
      progress({ step: "moved", shard: moved - 1, keys: deleted });
    }
    progress({ step: "started" });
    let movedNow = 0;
    while (moved < from) {
      if (options.maxShards !== undefined && movedNow >= options.maxShards) {
        return { outcome: "paused", from, to, movedShards: moved };
      }
      const shard = moved;
      await step();
      // Not yet counted as moved, so nobody routes to its copy: (re)fence it and copy it whole,
      // whatever an interrupted run left of an earlier copy.
      await setFence(redis, plan, shard, "moving");
      progress({ step: "fenced", shard });
      await step();
      const copied = await copyShard(redis, plan, shard).catch(async (error: unknown) => {
        // A key no org owns is found before anything is written: lift the fence and say so.
        if (BufferReshardError.isInstance(error) && error.code === "RESHARD_REFUSED") {
          await redis.del(fenceKeyOfTag(plan.fromTags[shard] as string));
        }
        throw error;
      });
      progress({ step: "copied", shard, keys: copied.length });
      await step();
      // From here processes route the shard's orgs to the new layout: its copy is complete, and
      // the old shard, fenced, has not changed since.
      await redis.hset(layoutKey, "reshardMoved", shard + 1);
      moved = shard + 1;
      movedNow += 1;
      progress({ step: "recorded", shard });
      await step();
      await setFence(redis, plan, shard, "moved");
      const deleted = await deleteShard(redis, plan, shard);
      progress({ step: "moved", shard, keys: deleted });
    }
    await step();
    // One transaction on one key: no process reads a record with the new count and a reshard still in it.
    const finish = await redis
      .multi()
      .hset(layoutKey, "version", LAYOUT_VERSION, "shardCount", to)
      .hdel(layoutKey, "reshardTo", "reshardMoved")
      .exec();
    for (const [error] of finish ?? []) if (error) throw error;
    await Promise.all(plan.toTags.map((tag) => redis.del(`${tag}:reshard-in`)));
    progress({ step: "finished" });
    return { outcome: "completed", from, to };
  } finally {
    clearInterval(keepAlive);
    await lockCall(redis, lockKey, "release", token, lockTtlMs).catch(() => undefined);
  }
}

export { reshardName };
