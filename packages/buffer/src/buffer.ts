import { type AcceptResult, accept } from "./accept.js";
import { acceptBatch } from "./accept-batch.js";
import { type AckResult, ack } from "./ack.js";
import { ackMany } from "./ack-many.js";
import { type BufferContext, type MollifierBufferOptions, resolveBufferOptions } from "./buffer-options.js";
import {
  type ClaimAddress,
  type ClaimInput,
  type ClaimResult,
  claim,
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
import { type DiscardFailedResult, discardFailed } from "./discard-failed.js";
import type { BufferEntryView, FailedEntryView, LeasedEntry } from "./entry-view.js";
import { activeEnvs, activeOrgs, activeSet, shards } from "./enumerate.js";
import { type FailRequest, type FailResult, fail } from "./fail.js";
import {
  type IdempotencyAddress,
  type LookupIdempotencyResult,
  lookupIdempotency,
  type ResetIdempotencyResult,
  resetIdempotency,
} from "./idempotency.js";
import type { BufferKeys, EntryAddress } from "./keys.js";
import { checkLayout, followMovedShards, type LayoutCheck, refreshLayout } from "./layout.js";
import { type ExtendLeaseResult, extendLease, type LeaseRequest, type LeaseResult, lease } from "./lease.js";
import {
  type AddTagsInput,
  type AddTagsResult,
  addTags,
  type CancelInput,
  type CancelResult,
  cancel,
  type SetDelayInput,
  type SetDelayResult,
  type SetMetadataInput,
  type SetMetadataResult,
  setDelay,
  setMetadata,
} from "./mutations.js";
import {
  type BufferStats,
  type DepthScope,
  depth,
  getEntry,
  getFailed,
  type ListEntriesRequest,
  type ListFailedRequest,
  listEntries,
  listFailed,
  oldestEntryAgeMs,
  position,
  stats,
} from "./reads.js";
import {
  type PromoteResult,
  promoteDueRetries,
  type ReapResult,
  reapExpiredLeases,
  type SweepOptions,
} from "./reaper.js";
import {
  checkRedisConfiguration,
  type RedisConfigurationCheck,
  type RedisConfigurationCheckOptions,
} from "./redis-configuration.js";
import { type ReleaseResult, release } from "./release.js";
import { type RetryRequest, type RetryResult, retry } from "./retry.js";
import type { ActiveSet } from "./shard-failure.js";
import type { AcceptInput } from "./snapshot.js";
import {
  type ClaimUnreportedResult,
  claimUnreportedFailures,
  type SettleFailureReportResult,
  settleFailureReport,
} from "./unreported.js";

/**
 * The buffer: a thin facade over one module per operation, all sharing one
 * {@link BufferContext}. Every operation is one atomic script (or a plain read)
 * and answers a discriminated result; invalid input throws
 * {@link BufferInputError} before anything is written.
 *
 * `Payload` types the payloads this buffer's callers put in and get back
 * (`entry.snapshot.payload`). The buffer stores any JSON value and does not
 * check its shape, so the type is the callers' agreement, as a queue's job
 * data type is; it defaults to `unknown`.
 *
 * @example
 * const buffer = new MollifierBuffer<{ to: string }>({ redis });
 * await buffer.accept({ runId, orgId, envId, taskId: "send-email", payload: { to } });
 * const { entries } = await buffer.lease({ orgId, envId, count: 10 });
 * for (const entry of entries) await buffer.ack(entry); // entry.snapshot.payload.to: string
 */
export class MollifierBuffer<Payload = unknown> {
  /** The resolved options, client and key builder every operation module takes. */
  readonly context: BufferContext;

  constructor(options: MollifierBufferOptions) {
    this.context = resolveBufferOptions(options);
  }

  // When the layout record is next re-read in the background (context clock, ms).
  private nextLayoutRefreshAt = 0;

  /**
   * Runs one operation on the current routing. A shard moved by a live reshard refuses the
   * operation's script before it writes anything (`SHARD_MOVED`): the layout record is re-read
   * and the operation rebuilt on the new routing, a few times at most (a reshard moves each shard
   * once). Besides, at most once per `layoutRefreshMs` the record is re-read in the background,
   * so plain reads (active sets, depths) follow a reshard too. With no reshard running this
   * costs a clock read per operation and one `HMGET` per second.
   */
  private follow<T>(operation: () => Promise<T>): Promise<T> {
    const now = this.context.options.clock();
    if (now >= this.nextLayoutRefreshAt) {
      this.nextLayoutRefreshAt = now + this.context.options.layoutRefreshMs;
      // A failed refresh is tried again at the next interval; the operation does not wait for it.
      refreshLayout(this.context).catch(() => undefined);
    }
    return followMovedShards(this.context, operation);
  }

  /** The key builder (shared with the gate, which keeps its keys in the same slots). */
  get keys(): BufferKeys {
    return this.context.keys;
  }

  /** Buffers one trigger. See {@link accept}. */
  accept(input: AcceptInput<Payload>): Promise<AcceptResult> {
    return this.follow(() => accept(this.context, input));
  }

  /** Buffers many triggers, one result per input. See {@link acceptBatch}. */
  acceptBatch(inputs: readonly AcceptInput<Payload>[]): Promise<AcceptResult[]> {
    return this.follow(() => acceptBatch(this.context, inputs));
  }

  /** Leases up to `count` entries of one env. See {@link lease}. */
  lease(request: LeaseRequest): Promise<LeaseResult<Payload>> {
    // The payload type is the callers' agreement (see the class); the stored JSON is theirs.
    return this.follow(() => lease(this.context, request)) as Promise<LeaseResult<Payload>>;
  }

  /** Extends a held lease. See {@link extendLease}. */
  extendLease(entry: LeasedEntry, leaseMs?: number): Promise<ExtendLeaseResult> {
    return this.follow(() => extendLease(this.context, entry, leaseMs));
  }

  /** Removes a delivered entry. See {@link ack}. */
  ack(entry: LeasedEntry): Promise<AckResult> {
    return this.follow(() => ack(this.context, entry));
  }

  /** Removes many delivered entries, one result per entry, one script call per env. See {@link ackMany}. */
  ackMany(entries: readonly LeasedEntry[]): Promise<AckResult[]> {
    return this.follow(() => ackMany(this.context, entries));
  }

  /** Schedules a delayed retry. See {@link retry}. */
  retry(entry: LeasedEntry, request: RetryRequest): Promise<RetryResult> {
    return this.follow(() => retry(this.context, entry, request));
  }

  /** Gives a lease up without spending an attempt (a dependency is down). See {@link release}. */
  release(entry: LeasedEntry): Promise<ReleaseResult> {
    return this.follow(() => release(this.context, entry));
  }

  /** Fails an entry terminally. See {@link fail}. */
  fail(entry: LeasedEntry, request: FailRequest): Promise<FailResult> {
    return this.follow(() => fail(this.context, entry, request));
  }

  /** Returns expired leases to the head of their queue, or fails those out of attempts. See {@link reapExpiredLeases}. */
  reapExpiredLeases(options?: SweepOptions): Promise<ReapResult> {
    return this.follow(() => reapExpiredLeases(this.context, options));
  }

  /** Returns due retries to the head of their queue. See {@link promoteDueRetries}. */
  promoteDueRetries(options?: SweepOptions): Promise<PromoteResult> {
    return this.follow(() => promoteDueRetries(this.context, options));
  }

  /**
   * The group a drainer acks `entry` in (`DrainSource.ackGroup`): its shard
   * on a Redis Cluster, so a master failing over holds back only its own
   * shards' acks; on a single Redis one group, since one call carries every
   * shard's acks there.
   */
  ackGroup(entry: Pick<LeasedEntry, "orgId">): number {
    return this.context.redis.isCluster ? this.context.keys.shardOf(entry.orgId) : 0;
  }

  /** All shard numbers. */
  shards(): number[] {
    return shards(this.context);
  }

  /** Orgs of a shard with entries ready to lease. */
  activeOrgs(shard: number): Promise<string[]> {
    return this.follow(() => activeOrgs(this.context, shard));
  }

  /** Envs of an org with entries ready to lease. */
  activeEnvs(orgId: string): Promise<string[]> {
    return this.follow(() => activeEnvs(this.context, orgId));
  }

  /** Every org with entries ready to lease, with those envs. See {@link activeSet}. */
  activeSet(): Promise<ActiveSet> {
    return this.follow(() => activeSet(this.context));
  }

  /** One buffered entry. See {@link getEntry}. */
  getEntry(address: EntryAddress): Promise<BufferEntryView<Payload> | undefined> {
    return this.follow(() => getEntry(this.context, address)) as Promise<
      BufferEntryView<Payload> | undefined
    >;
  }

  /** A retained FAILED record. See {@link getFailed}. */
  getFailed(address: EntryAddress): Promise<FailedEntryView<Payload> | undefined> {
    return this.follow(() => getFailed(this.context, address)) as Promise<
      FailedEntryView<Payload> | undefined
    >;
  }

  /** An env's retained FAILED records, newest first, a page at a time. See {@link listFailed}. */
  listFailed(
    request: ListFailedRequest,
  ): Promise<{ entries: FailedEntryView<Payload>[]; nextCursor?: string }> {
    return this.follow(() => listFailed(this.context, request)) as Promise<{
      entries: FailedEntryView<Payload>[];
      nextCursor?: string;
    }>;
  }

  /** Deletes a retained FAILED record (discarded or replayed by an operator). See {@link discardFailed}. */
  discardFailed(address: EntryAddress): Promise<DiscardFailedResult> {
    return this.follow(() => discardFailed(this.context, address));
  }

  /** Failures the buffer made itself whose report is overdue. See {@link claimUnreportedFailures}. */
  claimUnreportedFailures(options?: SweepOptions): Promise<ClaimUnreportedResult> {
    return this.follow(() => claimUnreportedFailures(this.context, options));
  }

  /** Settles the report of a failure the buffer made itself. See {@link settleFailureReport}. */
  settleFailureReport(address: EntryAddress): Promise<SettleFailureReportResult> {
    return this.follow(() => settleFailureReport(this.context, address));
  }

  /** An env's queued entries, a page at a time. See {@link listEntries}. */
  listEntries(
    request: ListEntriesRequest,
  ): Promise<{ entries: BufferEntryView<Payload>[]; nextCursor?: string }> {
    return this.follow(() => listEntries(this.context, request)) as Promise<{
      entries: BufferEntryView<Payload>[];
      nextCursor?: string;
    }>;
  }

  /** Entries buffered in any state per env, org or shard. */
  depth(scope: DepthScope): Promise<number> {
    return this.follow(() => depth(this.context, scope));
  }

  /** Age of the entry at the head of an env queue. */
  oldestEntryAgeMs(address: { orgId: string; envId: string }): Promise<number | undefined> {
    return this.follow(() => oldestEntryAgeMs(this.context, address));
  }

  /** A run's 0-based place in its env queue. */
  position(address: EntryAddress): Promise<number | undefined> {
    return this.follow(() => position(this.context, address));
  }

  /** Buffer-wide figures for gauges. */
  stats(): Promise<BufferStats> {
    return this.follow(() => stats(this.context));
  }

  /** Checks Redis's eviction policy. See {@link checkRedisConfiguration}. */
  checkRedisConfiguration(options?: RedisConfigurationCheckOptions): Promise<RedisConfigurationCheck> {
    return checkRedisConfiguration(this.context, options);
  }

  /**
   * Checks the key layout stored in Redis (layout version, tag scheme, shard count) against this
   * buffer's, storing it on first start; a differing one throws `LAYOUT_MISMATCH`. Call it once at
   * start, before accepting or draining. See {@link checkLayout}.
   */
  checkLayout(): Promise<LayoutCheck> {
    return checkLayout(this.context);
  }

  /**
   * Re-reads the layout record and routes by it now (the buffer does so on its own when a shard
   * answers that it moved, and in the background every `layoutRefreshMs`). Answers whether the
   * routing changed. See {@link refreshLayout}.
   */
  refreshLayout(): Promise<boolean> {
    return refreshLayout(this.context);
  }

  /** Cancels a queued or retrying entry. See {@link cancel}. */
  cancel(input: CancelInput): Promise<CancelResult> {
    return this.follow(() => cancel(this.context, input));
  }

  /** Adds tags to a queued or retrying entry. See {@link addTags}. */
  addTags(input: AddTagsInput): Promise<AddTagsResult> {
    return this.follow(() => addTags(this.context, input));
  }

  /** Compare-and-sets a queued or retrying entry's metadata. See {@link setMetadata}. */
  setMetadata(input: SetMetadataInput): Promise<SetMetadataResult> {
    return this.follow(() => setMetadata(this.context, input));
  }

  /** Reschedules a queued or retrying entry's run. See {@link setDelay}. */
  setDelay(input: SetDelayInput): Promise<SetDelayResult> {
    return this.follow(() => setDelay(this.context, input));
  }

  /** The buffered run holding an idempotency key (self-healing). See {@link lookupIdempotency}. */
  lookupIdempotency(address: IdempotencyAddress): Promise<LookupIdempotencyResult> {
    return this.follow(() => lookupIdempotency(this.context, address));
  }

  /** Releases an idempotency key held by a buffered run. See {@link resetIdempotency}. */
  resetIdempotency(address: IdempotencyAddress): Promise<ResetIdempotencyResult> {
    return this.follow(() => resetIdempotency(this.context, address));
  }

  /** Claims an idempotency key for an owner token. See {@link claim}. */
  claim(input: ClaimInput): Promise<ClaimResult> {
    return this.follow(() => claim(this.context, input));
  }

  /** Reads an idempotency claim. See {@link readClaim}. */
  readClaim(address: ClaimAddress): Promise<ReadClaimResult> {
    return this.follow(() => readClaim(this.context, address));
  }

  /** Resolves the caller's claim to its run id (compare-and-act on the token). See {@link publishClaim}. */
  publishClaim(input: PublishClaimInput): Promise<PublishClaimResult> {
    return this.follow(() => publishClaim(this.context, input));
  }

  /** Deletes the caller's claim (compare-and-act on the token). See {@link releaseClaim}. */
  releaseClaim(input: ReleaseClaimInput): Promise<ReleaseClaimResult> {
    return this.follow(() => releaseClaim(this.context, input));
  }

  /** Deletes a resolved claim. See {@link resetResolvedClaim}. */
  resetResolvedClaim(address: ClaimAddress): Promise<ResetResolvedClaimResult> {
    return this.follow(() => resetResolvedClaim(this.context, address));
  }
}
