// `@mollifier/buffer/internal`: building blocks under `MollifierBuffer` for tests, benchmarks and
// tooling (key and snapshot codecs, limits, resolved options). Not covered by semver: any release
// may change or remove them. Applications use the main entry.
export { MAX_ACCEPT_BATCH_GROUP } from "./accept-batch.js";
export { type AckableEntry, MAX_ACK_BATCH_GROUP } from "./ack-many.js";
export { retryDelayMs } from "./backoff.js";
export { type BufferContext, type ResolvedBufferOptions, resolveBufferOptions } from "./buffer-options.js";
export { clampClaimTtl, MAX_CLAIM_TOKEN_LENGTH } from "./claims.js";
export { crc16, evenSlotRanges, keySlot, SLOT_COUNT, type SlotRange } from "./crc16.js";
export { type EntryKeys, entryKeys, envKeys, withValidIds } from "./entry-keys.js";
export { decodeSegment, encodeSegment, fnv1a32, MAX_SEGMENT_BYTES } from "./keys.js";
export { checkLayout, configuredLayout } from "./layout.js";
export { MAX_LEASE_COUNT } from "./lease.js";
export { MAX_CANCEL_REASON_LENGTH, MAX_METADATA_BYTES, MAX_TAG_LENGTH } from "./mutations.js";
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "./reads.js";
export { DEFAULT_SWEEP_LIMIT } from "./reaper.js";
export { checkRedisConfiguration } from "./redis-configuration.js";
export { SHARD_TAG_SCHEME, shardTags, shardTargetSlots } from "./shard-tags.js";
export {
  type DecodedSnapshot,
  decodeSnapshot,
  type EncodedSnapshot,
  encodeSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  snapshotOptionsSchema,
  triggerSnapshotSchema,
} from "./snapshot.js";
