/**
 * The drainer's view of a buffer: the port it drains through. `MollifierBuffer`
 * from `@mollifier/buffer` satisfies it structurally; the drainer never imports
 * the buffer class, so any source with these methods can be drained (tests use
 * small hand-written fakes).
 */

/** The fields of a leased entry the drainer itself reads. Sources may carry more. */
export interface DrainEntry {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  /** Failed or expired deliveries before this one. */
  readonly attempts: number;
  /** Epoch ms the entry was accepted into the buffer. */
  readonly acceptedAt: number;
  /** Epoch ms (the source's clock) the current lease expires. */
  readonly leaseDeadline: number;
}

/** What one `lease` call asks for: up to `count` entries of one env. */
export interface DrainLeaseRequest {
  readonly orgId: string;
  readonly envId: string;
  readonly count: number;
  readonly leaseMs?: number;
}

/** Entries leased by one call, and the ones the source failed because they no longer parse. */
export interface DrainLeaseResult<Entry extends DrainEntry> {
  readonly entries: readonly Entry[];
  readonly invalid: ReadonlyArray<{ readonly runId: string; readonly error: string }>;
}

export type DrainExtendResult = { outcome: "extended"; leaseDeadline: number } | { outcome: "lease_lost" };
export type DrainAckResult = { outcome: "acked" } | { outcome: "lease_lost" };
export type DrainRetryResult =
  | { outcome: "scheduled"; dueAt: number; delayMs: number; attempts: number }
  | { outcome: "exhausted"; attempts: number }
  | { outcome: "lease_lost" };
export type DrainFailResult = { outcome: "failed" } | { outcome: "lease_lost" };

/** An entry the lease reaper failed because its expired lease used up its attempts. */
export interface DrainReapFailure {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  /** Deliveries made, the expired one included. */
  readonly attempts: number;
  readonly error: string;
}

/**
 * What one reaper pass did: `reaped` leases went back to their queue;
 * `failed` (optional, for sources without an attempt bound) were failed as
 * `attempts_exhausted` instead, listed in `failedEntries`.
 */
export interface DrainReapResult {
  readonly reaped: number;
  readonly failed?: number;
  readonly failedEntries?: readonly DrainReapFailure[];
  /** Shards the source could not reach this time (the others were swept). */
  readonly unavailableShards?: readonly DrainShardFailure[];
}

/** A shard the source could not reach (on a cluster: its master is failing over), with the error naming it. */
export interface DrainShardFailure {
  readonly shard: number;
  readonly error: unknown;
}

/** Why the drainer fails an entry through `fail`. */
export type DrainFailureKind = "terminal" | "attempts_exhausted";

/** The ids of one buffered run. */
export interface DrainRunAddress {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

/**
 * A failure the source made itself (reaped out of attempts, invalid at lease) whose report is
 * overdue: whoever learnt of it did not settle it in time (it died, or its hook threw).
 */
export interface DrainUnreportedFailure extends DrainRunAddress {
  /** `attempts_exhausted` for the reaper's, `invalid_entry` for lease's. */
  readonly kind: string;
  readonly attempts: number;
  readonly error: string;
}

/**
 * What a source still holds of an entry it failed itself (the lease reaper,
 * or `lease` for an entry that no longer parses): the entry as far as it can
 * be read. The buffer's FAILED record gives the snapshot (when it parses),
 * `attempts`, `acceptedAt` and the mutations the entry met while buffered.
 */
export type DrainFailedEntry<Entry extends DrainEntry> = Partial<Entry>;

/**
 * A lease-based source of entries, walked shards → orgs → envs.
 *
 * Contract the drainer relies on: a leased entry is invisible to other
 * leases until it is acked, retried, failed or its lease expires and
 * `reapExpiredLeases` returns it (or fails it once its attempts are used up); `retry` answers `exhausted` and leaves the
 * entry leased when its attempt budget is spent; every call is safe to make
 * from several drainer processes at once.
 */
export interface DrainSource<Entry extends DrainEntry> {
  lease(request: DrainLeaseRequest): Promise<DrainLeaseResult<Entry>>;
  extendLease(entry: Entry, leaseMs?: number): Promise<DrainExtendResult>;
  ack(entry: Entry): Promise<DrainAckResult>;
  /**
   * Optional: acknowledges many entries at once, one result per entry in
   * input order, each exactly as `ack` would answer. When present the drainer
   * coalesces acks into small batches; without it, it calls `ack` per entry.
   */
  ackMany?(entries: readonly Entry[]): Promise<readonly DrainAckResult[]>;
  /**
   * Optional, with `ackMany`: which group an entry's ack belongs to. Acks of
   * different groups go in separate `ackMany` calls and are answered on their
   * own, so a group whose store cannot answer (on a Redis Cluster, a shard
   * whose master is failing over) holds back only its own acks. Without it
   * every ack shares one group. The buffer answers the shard on a cluster and
   * one group on a single Redis, where one call is cheapest.
   */
  ackGroup?(entry: NoInfer<Entry>): number;
  retry(entry: Entry, failure: { error: string }): Promise<DrainRetryResult>;
  /**
   * Optional: gives the lease up without spending an attempt; the entry is leased again at once,
   * by this drainer or another. The drainer calls it for entries it could not run because the
   * handler's dependency was down (`isUnavailable`) when it stops waiting for them; without it
   * those go through `retry` and spend an attempt. The buffer's `release` satisfies it.
   */
  release?(entry: Entry): Promise<{ readonly outcome: "released" | "lease_lost" }>;
  fail(entry: Entry, failure: { error: string; kind?: DrainFailureKind }): Promise<DrainFailResult>;
  reapExpiredLeases(options?: { limit?: number }): Promise<DrainReapResult>;
  /**
   * Optional: reads an entry the source failed itself (reaped out of
   * attempts, or invalid at lease), so `onTerminalFailure` gets the entry as
   * far as it can be read. Without it the hook gets `entry: undefined` for those.
   * The buffer's `getFailed` satisfies it.
   */
  getFailed?(address: DrainRunAddress): Promise<NoInfer<DrainFailedEntry<Entry>> | undefined>;
  /**
   * Optional, with `settleFailureReport`: makes the hook for failures the source made itself
   * survive the drainer that learnt of them. The source keeps each such failure until its report
   * is settled; this hands out the overdue ones (each to one caller at a time), which the
   * maintenance loop delivers to `onTerminalFailure` as if just learnt. Without it a drainer that
   * dies (or whose hook throws) before the hook finishes loses that hook call.
   */
  claimUnreportedFailures?(options?: { limit?: number }): Promise<{
    readonly failures: readonly DrainUnreportedFailure[];
    readonly unavailableShards?: readonly DrainShardFailure[];
  }>;
  /** Optional, with `claimUnreportedFailures`: the failure's hook ran (or there is none); stop handing it out. */
  settleFailureReport?(address: DrainRunAddress): Promise<unknown>;
  promoteDueRetries(options?: {
    limit?: number;
  }): Promise<{ promoted: number; unavailableShards?: readonly DrainShardFailure[] }>;
  shards(): readonly number[];
  activeOrgs(shard: number): Promise<readonly string[]>;
  activeEnvs(orgId: string): Promise<readonly string[]>;
  /**
   * Optional: every active org with its active envs, as `shards()` →
   * `activeOrgs` → `activeEnvs` would list them, read in one go. When present
   * the drainer reads its scheduling rounds through it. Shards it could not
   * read go in `unavailableShards`: their orgs wait, the others are drained.
   */
  activeSet?(): Promise<
    ReadonlyMap<string, readonly string[]> & { readonly unavailableShards?: readonly DrainShardFailure[] }
  >;
}
