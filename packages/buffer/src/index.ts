export { type AcceptResult, accept } from "./accept.js";
export { acceptBatch, MAX_ACCEPT_BATCH_GROUP } from "./accept-batch.js";
export { type AckResult, ack } from "./ack.js";
export { type AckableEntry, ackMany, MAX_ACK_BATCH_GROUP } from "./ack-many.js";
export { retryDelayMs } from "./backoff.js";
export { MollifierBuffer } from "./buffer.js";
export {
  type BufferContext,
  DEFAULT_FAILED_RETENTION_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_CLAIM_TTL_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_TAGS,
  DEFAULT_MIN_CLAIM_TTL_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_JITTER,
  DEFAULT_RETRY_MAX_ATTEMPTS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  type MollifierBufferOptions,
  type ResolvedBufferOptions,
  type RetryOptions,
  resolveBufferOptions,
} from "./buffer-options.js";
export {
  type ClaimAddress,
  type ClaimInput,
  type ClaimPending,
  type ClaimResolved,
  type ClaimResult,
  type ClaimsContext,
  claim,
  clampClaimTtl,
  MAX_CLAIM_TOKEN_LENGTH,
  type PublishClaimInput,
  type PublishClaimResult,
  publishClaim,
  type ReadClaimResult,
  type ReleaseClaimInput,
  type ReleaseClaimResult,
  type ResetResolvedClaimResult,
  readClaim,
  releaseClaim,
  resetResolvedClaim,
} from "./claims.js";
export { type EntryKeys, entryKeys, envKeys, withValidIds } from "./entry-keys.js";
export type {
  BufferEntryView,
  EntryMutations,
  FailedEntryView,
  FailureKind,
  LeasedEntry,
} from "./entry-view.js";
export { activeEnvs, activeOrgs, activeSet, shards } from "./enumerate.js";
export {
  BufferConfigurationError,
  BufferError,
  type BufferErrorCode,
  BufferInputError,
} from "./errors.js";
export { type FailRequest, type FailResult, fail } from "./fail.js";
export {
  type IdempotencyAddress,
  type IdempotencyContext,
  type LookupIdempotencyResult,
  lookupIdempotency,
  type ResetIdempotencyResult,
  resetIdempotency,
} from "./idempotency.js";
export {
  BufferKeys,
  type BufferKeysOptions,
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHARD_COUNT,
  decodeSegment,
  type EntryAddress,
  type EnvKeys,
  encodeSegment,
  fnv1a32,
  InvalidKeySegmentError,
  MAX_SEGMENT_BYTES,
  type ShardKeys,
} from "./keys.js";
export {
  type ExtendLeaseResult,
  extendLease,
  type LeaseRequest,
  type LeaseResult,
  lease,
  MAX_LEASE_COUNT,
} from "./lease.js";
export {
  defineLuaScript,
  type LuaArgument,
  type LuaArguments,
  type LuaKeys,
  type LuaScript,
  type RedisClient,
  runLuaScript,
  type Tuple,
} from "./lua-script.js";
export {
  type AddTagsInput,
  type AddTagsResult,
  addTags,
  type CancelInput,
  type CancelResult,
  cancel,
  MAX_CANCEL_REASON_LENGTH,
  MAX_METADATA_BYTES,
  MAX_TAG_LENGTH,
  type MutationAddress,
  type MutationBusy,
  type MutationNotFound,
  type MutationsContext,
  type SetDelayInput,
  type SetDelayResult,
  type SetMetadataInput,
  type SetMetadataResult,
  setDelay,
  setMetadata,
} from "./mutations.js";
export {
  type BufferStats,
  DEFAULT_LIST_LIMIT,
  type DepthScope,
  depth,
  getEntry,
  getFailed,
  type ListEntriesRequest,
  listEntries,
  MAX_LIST_LIMIT,
  oldestEntryAgeMs,
  position,
  stats,
} from "./reads.js";
export {
  DEFAULT_SWEEP_LIMIT,
  promoteDueRetries,
  type ReapedFailure,
  type ReapResult,
  reapExpiredLeases,
  type SweepOptions,
} from "./reaper.js";
export {
  checkRedisConfiguration,
  type RedisConfigurationCheck,
  type RedisConfigurationCheckOptions,
} from "./redis-configuration.js";
export { type RetryRequest, type RetryResult, retry } from "./retry.js";
export {
  type AcceptInput,
  type DecodedSnapshot,
  decodeSnapshot,
  type EncodedSnapshot,
  encodeSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  type SnapshotOptions,
  snapshotOptionsSchema,
  type TriggerSnapshot,
  triggerSnapshotSchema,
} from "./snapshot.js";
