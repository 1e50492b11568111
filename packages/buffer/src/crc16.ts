/** Redis Cluster's key hashing lives in `@mollifier/core`; re-exported for the buffer's modules and tests. */
export {
  crc16,
  crc16TwoByteSuffix,
  crc16UpdateAscii,
  evenSlotRanges,
  keySlot,
  SLOT_COUNT,
  type SlotRange,
} from "@mollifier/core";
