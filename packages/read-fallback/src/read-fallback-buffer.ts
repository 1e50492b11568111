/**
 * The read fallback's view of the buffer: the subset of `MollifierBuffer`
 * (`@mollifier/buffer`) it calls, as a port. The real buffer satisfies it
 * structurally; tests of pure logic use small hand-written fakes. Shapes here
 * are supertypes of the buffer's own, so the buffer may carry more fields, but
 * an outcome the buffer adds and this package does not handle fails to compile
 * where the buffer is passed in.
 */

/** One run of one tenant (org, env). */
export interface BufferRunRef {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

/** One idempotency key of one task of one tenant. */
export interface BufferIdempotencyRef {
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly idempotencyKey: string;
}

/** The trigger options of a buffered snapshot this package reads. */
export interface BufferedTriggerOptions {
  readonly idempotencyKey?: string | undefined;
  /** Epoch ms after which the idempotency key no longer dedupes. */
  readonly idempotencyKeyExpiresAt?: number | undefined;
  readonly tags?: readonly string[] | undefined;
  /** Epoch ms the run was asked to wait until. */
  readonly delayUntil?: number | undefined;
  readonly metadata?: unknown;
}

/** The fields of a buffered trigger snapshot this package reads. */
export interface BufferedSnapshot {
  readonly runId: string;
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  readonly payload?: unknown;
  readonly createdAt: number;
  readonly options: BufferedTriggerOptions;
}

/** Mutations stored beside a snapshot. */
export interface BufferedMutations {
  readonly canceled?: { readonly at: number; readonly reason: string } | undefined;
  readonly tags: readonly string[];
  /** JSON text as the caller set it. */
  readonly metadata?: string | undefined;
  readonly metadataVersion: number;
  readonly delayUntil?: number | undefined;
  readonly idempotencyReset: boolean;
}

/** A buffered entry as `getEntry` returns it. */
export interface BufferedEntry extends BufferRunRef {
  readonly state: "queued" | "leased" | "retrying";
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly snapshot: BufferedSnapshot;
  readonly mutations: BufferedMutations;
  /** 0-based position in the env queue; only while queued. */
  readonly position?: number | undefined;
}

type Busy = { outcome: "busy" };
type NotFound = { outcome: "not_found" };

/** The buffer's answer to `cancel`. */
export type BufferCancelResult =
  | { outcome: "canceled"; at: number }
  | { outcome: "already_canceled"; at: number }
  | Busy
  | NotFound;
/** The buffer's answer to `addTags` (tags: the entry's tags now, the snapshot's first). */
export type BufferAddTagsResult =
  | { outcome: "updated"; tags: readonly string[] }
  | { outcome: "too_many_tags"; limit: number }
  | Busy
  | NotFound;
/** The buffer's answer to `setMetadata` (compare-and-set on the metadata version). */
export type BufferSetMetadataResult =
  | { outcome: "updated"; version: number }
  | { outcome: "version_conflict"; version: number }
  | Busy
  | NotFound;
/** The buffer's answer to `setDelay`. */
export type BufferSetDelayResult = { outcome: "updated"; delayUntil: number } | Busy | NotFound;
/** The buffer's answer to `lookupIdempotency` (self-healing: a stale index answers `not_found`). */
export type BufferLookupIdempotencyResult = { outcome: "found"; runId: string } | NotFound;
/** The buffer's answer to `resetIdempotency`. */
export type BufferResetIdempotencyResult = { outcome: "reset"; runId: string } | Busy | NotFound;
/** The buffer's answer to `claim`: owned now, owned by another token (`ttlMs` left), or published. */
export type BufferClaimResult =
  | { outcome: "claimed" }
  | { outcome: "pending"; ttlMs: number }
  | { outcome: "resolved"; runId: string };
/** The buffer's answer to `publishClaim` (compare-and-act on the token). */
export type BufferPublishClaimResult = { outcome: "published" } | { outcome: "not_owner" };
/** The buffer's answer to `releaseClaim` (compare-and-act on the token). */
export type BufferReleaseClaimResult = { outcome: "released" } | { outcome: "not_owner" };
/** The buffer's answer to `resetResolvedClaim`. */
export type BufferResetResolvedClaimResult = { outcome: "reset" } | { outcome: "not_resolved" };

/**
 * The buffer methods the read fallback calls. Mutations answer `busy` while
 * the entry is leased (being materialised) and `not_found` once it is gone;
 * keys are per (org, env), so another tenant's ids never find an entry.
 */
export interface ReadFallbackBuffer {
  getEntry(ref: BufferRunRef): Promise<BufferedEntry | undefined>;
  cancel(request: BufferRunRef & { readonly reason: string }): Promise<BufferCancelResult>;
  addTags(request: BufferRunRef & { readonly tags: string[] }): Promise<BufferAddTagsResult>;
  setMetadata(
    request: BufferRunRef & { readonly metadata: string; readonly expectedVersion: number },
  ): Promise<BufferSetMetadataResult>;
  setDelay(request: BufferRunRef & { readonly delayUntil: number }): Promise<BufferSetDelayResult>;
  lookupIdempotency(ref: BufferIdempotencyRef): Promise<BufferLookupIdempotencyResult>;
  resetIdempotency(ref: BufferIdempotencyRef): Promise<BufferResetIdempotencyResult>;
  claim(
    request: BufferIdempotencyRef & { readonly token: string; readonly ttlMs: number },
  ): Promise<BufferClaimResult>;
  publishClaim(
    request: BufferIdempotencyRef & {
      readonly token: string;
      readonly runId: string;
      readonly ttlMs: number;
    },
  ): Promise<BufferPublishClaimResult>;
  releaseClaim(request: BufferIdempotencyRef & { readonly token: string }): Promise<BufferReleaseClaimResult>;
  resetResolvedClaim(ref: BufferIdempotencyRef): Promise<BufferResetResolvedClaimResult>;
}
