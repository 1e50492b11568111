import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import { promoteRetryScript, reapLeaseScript } from "./generated/lua-scripts.js";
import { runLuaScript } from "./lua-script.js";
import { replyNumber } from "./reply.js";

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

async function redisNow(context: BufferContext): Promise<number> {
  const [seconds, micros] = await context.redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

// Reads due members with ZRANGEBYSCORE, then moves each with a per-member
// script that re-checks its score, so concurrent sweepers and a late
// extendLease / ack are harmless.
async function sweep(
  context: BufferContext,
  set: "leases" | "retries",
  options: SweepOptions | undefined,
): Promise<number> {
  const limit = options?.limit ?? DEFAULT_SWEEP_LIMIT;
  const now = await redisNow(context);
  const script = set === "leases" ? reapLeaseScript : promoteRetryScript;
  const perShard = await Promise.all(
    context.keys.shards().map(async (shard) => {
      const key = context.keys.shard(shard)[set];
      const members = await context.redis.zrangebyscore(key, "-inf", now, "LIMIT", 0, limit);
      // One member after another: each goes to the head of its queue, so the
      // order they are moved in is the order they end up in.
      let moved = 0;
      for (const member of members) {
        const address = context.keys.parseEntryMember(member);
        const { keys, runField } = entryKeys(context.keys, address);
        const raw = await runLuaScript(
          context.redis,
          script,
          [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, key],
          [runField, member, keys.org, keys.env],
        );
        moved += replyNumber(script.name, raw);
      }
      return moved;
    }),
  );
  return perShard.reduce((sum, value) => sum + value, 0);
}

/**
 * Returns leases whose deadline (Redis `TIME`) has passed to the head of their
 * env queue with `attempts + 1`: the delivery of a crashed consumer is retried.
 */
export async function reapExpiredLeases(
  context: BufferContext,
  options?: SweepOptions,
): Promise<{ reaped: number }> {
  return { reaped: await sweep(context, "leases", options) };
}

/** Moves retries that are due (Redis `TIME`) back to the head of their env queue. */
export async function promoteDueRetries(
  context: BufferContext,
  options?: SweepOptions,
): Promise<{ promoted: number }> {
  return { promoted: await sweep(context, "retries", options) };
}
