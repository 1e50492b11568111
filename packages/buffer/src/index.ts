export type { AcceptResult } from "./accept.js";
export type { AckResult } from "./ack.js";
export { MollifierBuffer } from "./buffer.js";
export {
  DEFAULT_FAILED_RETENTION_MS,
  DEFAULT_FAILURE_REPORT_RETRY_MS,
  DEFAULT_LAYOUT_REFRESH_MS,
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
  type RetryOptions,
} from "./buffer-options.js";
export type {
  ClaimAddress,
  ClaimInput,
  ClaimPending,
  ClaimResolved,
  ClaimResult,
  PublishClaimInput,
  PublishClaimResult,
  ReadClaimResult,
  ReleaseClaimInput,
  ReleaseClaimResult,
  ResetResolvedClaimResult,
} from "./claims.js";
export type { DiscardFailedResult } from "./discard-failed.js";
export type {
  BufferEntryView,
  EntryMutations,
  FailedEntryView,
  FailureKind,
  LeasedEntry,
} from "./entry-view.js";
export {
  BufferConfigurationError,
  BufferError,
  type BufferErrorCode,
  BufferInputError,
  BufferReshardError,
} from "./errors.js";
export type { FailRequest, FailResult } from "./fail.js";
export type {
  IdempotencyAddress,
  LookupIdempotencyResult,
  ResetIdempotencyResult,
} from "./idempotency.js";
export {
  BufferKeys,
  type BufferKeysOptions,
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHARD_COUNT,
  type EntryAddress,
  type EnvKeys,
  InvalidKeySegmentError,
  type ShardKeys,
  type ShardRouting,
} from "./keys.js";
export { type BufferLayout, LAYOUT_VERSION, type LayoutCheck, type ReshardState } from "./layout.js";
export type { ExtendLeaseResult, LeaseRequest, LeaseResult } from "./lease.js";
export type {
  AddTagsInput,
  AddTagsResult,
  CancelInput,
  CancelResult,
  MutationAddress,
  MutationBusy,
  MutationNotFound,
  SetDelayInput,
  SetDelayResult,
  SetMetadataInput,
  SetMetadataResult,
} from "./mutations.js";
export type { BufferStats, DepthScope, ListEntriesRequest, ListFailedRequest } from "./reads.js";
export type { PromoteResult, ReapedFailure, ReapResult, SweepOptions } from "./reaper.js";
export {
  DEFAULT_CLUSTER_READY_TIMEOUT_MS,
  type RedisConfigurationCheck,
  type RedisConfigurationCheckOptions,
} from "./redis-configuration.js";
export type { ReleaseResult } from "./release.js";
export {
  DEFAULT_RESHARD_LOCK_TTL_MS,
  type ReshardOptions,
  type ReshardProgress,
  type ReshardResult,
  reshard,
} from "./reshard.js";
export type { RetryRequest, RetryResult } from "./retry.js";
export { type BufferedRunRecord, type BufferedRunStatus, runFromEntry } from "./run-from-entry.js";
export { ActiveSet, type ShardFailure } from "./shard-failure.js";
export type { AcceptInput, SnapshotOptions, TriggerSnapshot } from "./snapshot.js";
export type { ClaimUnreportedResult, SettleFailureReportResult, UnreportedFailure } from "./unreported.js";
