import { slotBalancedTags, slotBalancedTargetSlots } from "@mollifier/core";

/**
 * Slot-balanced shard tags (layout version 2, ADR 0010).
 *
 * Shard `i` of `n` carries the hash tag `{<prefix>:<i>:<k>}`, where `k` is the
 * smallest non-negative integer (in decimal) whose tag hashes to the centre
 * slot of range `i` of an even split of the 16,384 slots into `n` ranges (the
 * split `redis-cli --cluster create` makes). The centre slot of range `i` is
 * `floor((first + last) / 2)`. Because the shards sit at evenly spaced slots,
 * a cluster whose masters own even slot ranges holds at most
 * `ceil(n / masters)` shards on any master. The placement itself is core's
 * `slotBalancedTags`, which the drainer's rate buckets and the gate's global
 * budget parts use too.
 */

/** Name of this tag scheme, stored in the layout record (layout version 1 used `{<prefix>:<i>}`, placed by chance). */
export const SHARD_TAG_SCHEME = "centre-slot-crc16";

/** The slot each shard's tag is placed on: the centre slot of its range. */
export function shardTargetSlots(shardCount: number): number[] {
  return slotBalancedTargetSlots(shardCount);
}

/** The hash tag (with its braces) of every shard, `0 … shardCount - 1`; memoised. */
export function shardTags(prefix: string, shardCount: number): readonly string[] {
  // The prefix is ASCII (BufferKeys checks it), as the placement requires.
  return slotBalancedTags(prefix, shardCount);
}
