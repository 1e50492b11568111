/**
 * Redis Cluster's key hashing: CRC16 (XMODEM: polynomial 0x1021, initial value
 * 0, no reflection, no final XOR) of the key's hash tag, modulo 16,384. The
 * same function Redis runs for `CLUSTER KEYSLOT`.
 */

/** Hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

const encoder = new TextEncoder();

function update(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
}

/**
 * Continues a CRC16 from `crc` over ASCII `text` (each char code is its byte).
 * From 0 it gives the CRC16 of `text`; from the CRC of a prefix, the CRC of
 * prefix + text, which lets a search over suffixes skip the shared prefix.
 */
export function crc16UpdateAscii(crc: number, text: string): number {
  let value = crc;
  for (let index = 0; index < text.length; index++) value = update(value, text.charCodeAt(index));
  return value;
}

let twoByteInverse: Uint16Array | undefined;

/**
 * The two bytes (as `byte1 << 8 | byte2`) that, appended to a message whose
 * CRC16 is `crc`, make its CRC16 `target`. CRC16 is linear: the CRC after two
 * more bytes is `G(crc ^ bytes)`, where `G` (the CRC16 of a two-byte message)
 * is a bijection of the 16-bit values, so the answer is `crc ^ G⁻¹(target)`.
 */
export function crc16TwoByteSuffix(crc: number, target: number): number {
  if (twoByteInverse === undefined) {
    twoByteInverse = new Uint16Array(0x10000);
    for (let bytes = 0; bytes < 0x10000; bytes++) {
      twoByteInverse[update(update(0, bytes >> 8), bytes & 0xff)] = bytes;
    }
  }
  return crc ^ (twoByteInverse[target & 0xffff] ?? 0);
}

/** CRC16 (XMODEM) of the UTF-8 bytes of `text`, as Redis computes it. */
export function crc16(text: string): number {
  let value = 0;
  for (const byte of encoder.encode(text)) value = update(value, byte);
  return value;
}

/**
 * The hash slot of `key`, as `CLUSTER KEYSLOT` answers: only the part between
 * the first `{` and the next `}` is hashed, when that part is not empty.
 */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(key) % SLOT_COUNT;
}

/** An inclusive range of hash slots. */
export interface SlotRange {
  readonly first: number;
  readonly last: number;
}

/**
 * The 16,384 slots split into `count` contiguous ranges exactly as
 * `redis-cli --cluster create` assigns them to `count` masters (it steps a
 * 32-bit float cursor by 16384 / count and rounds each range's end).
 */
export function evenSlotRanges(count: number): SlotRange[] {
  if (!Number.isInteger(count) || count < 1 || count > SLOT_COUNT) {
    throw new RangeError(`count must be an integer from 1 to ${SLOT_COUNT}, got ${count}`);
  }
  // Math.fround mirrors redis-cli's `float` arithmetic, so boundaries match it to the slot.
  const perRange = Math.fround(SLOT_COUNT / count);
  const ranges: SlotRange[] = [];
  let first = 0;
  let cursor = 0;
  for (let index = 0; index < count; index++) {
    let last = Math.round(Math.fround(Math.fround(cursor + perRange) - 1));
    if (last > SLOT_COUNT || index === count - 1) last = SLOT_COUNT - 1;
    if (last < first) last = first;
    ranges.push({ first, last });
    first = last + 1;
    cursor = Math.fround(cursor + perRange);
  }
  return ranges;
}
