import { crc16TwoByteSuffix, crc16UpdateAscii, evenSlotRanges, SLOT_COUNT } from "./crc16.js";

/**
 * Hash tags placed on evenly spaced cluster slots (ADR 0010).
 *
 * Tag `i` of `n` is `{<stem>:<i>:<k>}`, where `k` is the smallest non-negative
 * integer (in decimal) whose tag hashes to the centre slot of range `i` of an
 * even split of the 16,384 slots into `n` ranges (the split
 * `redis-cli --cluster create` makes). The centre slot of range `i` is
 * `floor((first + last) / 2)`. Because the tags sit at evenly spaced slots, a
 * cluster whose masters own even slot ranges holds at most `ceil(n / masters)`
 * of them on any master.
 *
 * The buffer's shards use it (stem = the key prefix), and so does every key
 * that must not sit on one slot fleet-wide: the drainer's rate buckets and the
 * gate's global budget parts. The tags depend only on `(stem, n)`, so every
 * process computes the same ones; finding a tag takes a few hundred short
 * CRC16 steps, once per `(stem, n)` per process.
 */

/** Most `(stem, count)` pairs whose tags stay memoised; a process uses a handful. */
const MEMO_LIMIT = 64;
const memo = new Map<string, readonly string[]>();

/** The slot each tag is placed on: the centre slot of its range. */
export function slotBalancedTargetSlots(count: number): number[] {
  return evenSlotRanges(count).map((range) => Math.floor((range.first + range.last) / 2));
}

/**
 * The hash tags (with their braces) `0 … count - 1` of `stem`, each on the
 * centre slot of its range of an even split; memoised. `stem` must be ASCII.
 *
 * @example
 * slotBalancedTags("mollifier", 16)[0]; // "{mollifier:0:<k>}", on slot 511
 */
export function slotBalancedTags(stem: string, count: number): readonly string[] {
  const memoKey = `${stem}\n${count}`;
  const memoised = memo.get(memoKey);
  if (memoised !== undefined) return memoised;
  const tags = Object.freeze(slotBalancedTargetSlots(count).map((slot, index) => findTag(stem, index, slot)));
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
 * The tag `{<stem>:<index>:<k>}` with the smallest `k` that hashes to `slot`.
 * Trying every `k` costs ~16,384 CRCs a tag; instead, for each run of 100
 * integers sharing their leading digits (`100p … 100p + 99`), the last two
 * digits are solved for directly (`crc16TwoByteSuffix`), so the first run with
 * a solution holds the smallest `k`.
 */
function findTag(stem: string, index: number, slot: number): string {
  const head = `${stem}:${index}:`;
  const headCrc = crc16UpdateAscii(0, head);
  for (let k = 0; k < 10; k++) {
    if (crc16UpdateAscii(headCrc, String(k)) % SLOT_COUNT === slot) return `{${head}${k}}`;
  }
  const twoDigits = twoDigitsToSlot(headCrc, slot, false);
  if (twoDigits !== undefined) return `{${head}${twoDigits}}`;
  // Each run of 100 has a solution with probability ~1/164; the bound only guards
  // against a bug (a miss past it has odds below e^-6000).
  for (let leading = 1; leading < 1_000_000; leading++) {
    const last = twoDigitsToSlot(crc16UpdateAscii(headCrc, String(leading)), slot, true);
    if (last !== undefined) return `{${head}${leading * 100 + last}}`;
  }
  throw new Error(`no tag of ${head} hashes to slot ${slot}`);
}
