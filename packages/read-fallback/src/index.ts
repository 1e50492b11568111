export type { PollingOptions } from "./backoff.js";
export type { ClaimOrAwaitResult, ClaimRequest, PublishResult, ReleaseResult } from "./claim-or-await.js";
export type { FindIdempotentRunResult } from "./find-idempotent-run.js";
export type { FindRunResult } from "./find-run.js";
export type {
  AddTagsResult,
  CancelRunResult,
  RescheduleRunResult,
  ResetIdempotencyKeyResult,
} from "./mutate-run.js";
export { DEFAULT_CANCEL_REASON } from "./mutate-run.js";
export type { MutationResult, Sourced } from "./mutate-wherever.js";
export { createReadFallback, type ReadFallback } from "./read-fallback.js";
export type {
  BufferAddTagsResult,
  BufferCancelResult,
  BufferClaimResult,
  BufferedEntry,
  BufferedMutations,
  BufferedSnapshot,
  BufferedTriggerOptions,
  BufferIdempotencyRef,
  BufferLookupIdempotencyResult,
  BufferPublishClaimResult,
  BufferReleaseClaimResult,
  BufferResetIdempotencyResult,
  BufferResetResolvedClaimResult,
  BufferRunRef,
  BufferSetDelayResult,
  BufferSetMetadataResult,
  ReadFallbackBuffer,
} from "./read-fallback-buffer.js";
export { ReadFallbackError, type ReadFallbackErrorCode } from "./read-fallback-error.js";
export {
  DEFAULT_CLAIM_POLLING,
  DEFAULT_LEASE_POLLING,
  DEFAULT_MAX_CLAIM_TTL_MS,
  DEFAULT_MAX_METADATA_ATTEMPTS,
  DEFAULT_METADATA_BACKOFF,
  DEFAULT_MIN_CLAIM_TTL_MS,
  type ReadFallbackOptions,
} from "./read-fallback-options.js";
export type {
  IdempotencyRef,
  RunRecord,
  RunRef,
  RunStatus,
  RunStore,
  StoreAddTagsResult,
  StoreCancelResult,
  StoreRescheduleResult,
  StoreResetIdempotencyResult,
  StoreSetMetadataResult,
} from "./run-store.js";
export type { RunSource, RunView } from "./run-view.js";
export type { MetadataUpdate, UpdateMetadataResult } from "./update-metadata.js";
