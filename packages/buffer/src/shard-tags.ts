import { crc16TwoByteSuffix, crc16UpdateAscii, evenSlotRanges, SLOT_COUNT } from "./crc16.js";

/**
 * Slot-balanced shard tags (layout version 2, ADR 0010).
 *
 * Shard `i` of `n` carries the hash tag `{<prefix>:<i>:<k>}`, where `k` is the
 * smallest non-negative integer (in decimal) whose tag hashes to the centre
 * slot of range `i` of an even split of the 16,384 slots into `n` ranges (the
 * split `redis-cli --cluster create` makes). The centre slot of range `i` is
 * `floor((first + last) / 2)`. Because the shards sit at evenly spaced slots,
 * a cluster whose masters own even slot ranges holds at most
 * `ceil(n / masters)` shards on any master.
 *
 * The tags depend only on `(prefix, n)`, so every process computes the same
 * ones; finding a tag takes a few hundred short CRC16 steps, once per
 * `(prefix, n)` per process.
 */

/** Name of this tag scheme, stored in the layout record (layout version 1 used `{<prefix>:<i>}`, placed by chance). */
export const SHARD_TAG_SCHEME = "centre-slot-crc16";

/** Most `(prefix, shardCount)` pairs whose tags stay memoised; a process uses one or two. */
const MEMO_LIMIT = 64;
const memo = new Map<string, readonly string[]>();

/** The slot each shard's tag is placed on: the centre slot of its range. */
export function shardTargetSlots(shardCount: number): number[] {
  return evenSlotRanges(shardCount).map((range) => Math.floor((range.first + range.last) / 2));
}

/** The hash tag (with its braces) of every shard, `0 … shardCount - 1`; memoised. */
export function shardTags(prefix: string, shardCount: number): readonly string[] {
  const memoKey = `${prefix}\n${shardCount}`;
  const memoised = memo.get(memoKey);
  if (memoised !== undefined) return memoised;
  const tags = Object.freeze(shardTargetSlots(shardCount).map((slot, shard) => findTag(prefix, shard, slot)));
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(memoKey, tags);
  return tags;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** The smallest two-digit string (`"00"`…`"99"`, or from `"10"` with `leadingZero` false) that takes `crc` to `slot`. */
function twoDigitsToSlot(crc: number, slot: number, leadingZero: boolean): number | undefined {
  let best: number | undefined;
  // A slot is the CRC's low 14 bits: four CRC values land on it.
  for (let high = 0; high < 4; high++) {
    const bytes = crc16TwoByteSuffix(crc, slot + high * SLOT_COUNT);
    const first = bytes >> 8;
    const second = bytes & 0xff;
    if (first < (leadingZero ? DIGIT_0 : DIGIT_0 + 1) || first > DIGIT_9) continue;
    if (second < DIGIT_0 || second > DIGIT_9) continue;
    const value = (first - DIGIT_0) * 10 + (second - DIGIT_0);
    if (best === undefined || value < best) best = value;
  }
  return best;
}

/**
 * The tag `{<stem><k>}` with the smallest `k` that hashes to `slot`. Trying every
 * `k` costs ~16,384 CRCs a shard; instead, for each run of 100 integers sharing
 * their leading digits (`100p … 100p + 99`), the last two digits are solved for
 * directly (`crc16TwoByteSuffix`), so the first run with a solution holds the smallest `k`.
 */
function findTag(prefix: string, shard: number, slot: number): string {
  const stem = `${prefix}:${shard}:`;
  // The prefix is ASCII (BufferKeys checks it), so the stem is too.
  const stemCrc = crc16UpdateAscii(0, stem);
  for (let k = 0; k < 10; k++) {
    if (crc16UpdateAscii(stemCrc, String(k)) % SLOT_COUNT === slot) return `{${stem}${k}}`;
  }
  const twoDigits = twoDigitsToSlot(stemCrc, slot, false);
  if (twoDigits !== undefined) return `{${stem}${twoDigits}}`;
  // Each run of 100 has a solution with probability ~1/164; the bound only guards
  // against a bug (a miss past it has odds below e^-6000).
  for (let leading = 1; leading < 1_000_000; leading++) {
    const last = twoDigitsToSlot(crc16UpdateAscii(stemCrc, String(leading)), slot, true);
    if (last !== undefined) return `{${stem}${leading * 100 + last}}`;
  }
  throw new Error(`no tag of ${stem} hashes to slot ${slot}`);
}
