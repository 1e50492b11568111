import type {
  DrainAckResult,
  DrainEntry,
  DrainExtendResult,
  DrainFailResult,
  DrainFailureKind,
  DrainLeaseRequest,
  DrainLeaseResult,
  DrainReapFailure,
  DrainReapResult,
  DrainRetryResult,
  DrainSource,
} from "../drain-source.js";

/** The entry of {@link FakeDrainSource}. */
export interface FakeEntry extends DrainEntry {
  readonly leaseToken: number;
}

type Operation =
  | "lease"
  | "extendLease"
  | "ack"
  | "ackMany"
  | "retry"
  | "fail"
  | "reap"
  | "promote"
  | "enumerate";

/**
 * A small in-memory {@link DrainSource} for the drainer's own tests: FIFO
 * queues per env, leases with tokens and deadlines on an injected clock, a
 * retry set promoted on demand, a bounded attempt budget, and injectable
 * failures per operation. Not a Redis emulator: only the port's contract.
 */
export class FakeDrainSource implements DrainSource<FakeEntry> {
  now = 1_000_000;
  maxAttempts = 3;
  readonly queues = new Map<string, FakeEntry[]>();
  readonly leases = new Map<string, FakeEntry>();
  readonly retries: FakeEntry[] = [];
  readonly acked: string[] = [];
  readonly failed: Array<{ runId: string; error: string; kind: DrainFailureKind | undefined }> = [];
  /** What `getFailed` reads of the entries the reaper failed. */
  readonly failedRecords = new Map<string, FakeEntry>();
  readonly calls: Record<Operation, number> = {
    lease: 0,
    extendLease: 0,
    ack: 0,
    ackMany: 0,
    retry: 0,
    fail: 0,
    reap: 0,
    promote: 0,
    enumerate: 0,
  };
  /** Errors to throw from the next calls of an operation, in order. */
  readonly faults = new Map<Operation, unknown[]>();
  invalidNextLease: Array<{ runId: string; error: string }> = [];
  /** The `count` of every lease call, in order. */
  readonly leaseCounts: number[] = [];
  private token = 0;

  add(orgId: string, envId: string, count: number, acceptedAt = this.now): string[] {
    const key = `${orgId}/${envId}`;
    const queue = this.queues.get(key) ?? [];
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const runId = `${orgId}.${envId}.${queue.length + this.acked.length + i}.${Math.random().toString(36).slice(2)}`;
      queue.push({ orgId, envId, runId, attempts: 0, acceptedAt, leaseDeadline: 0, leaseToken: 0 });
      ids.push(runId);
    }
    this.queues.set(key, queue);
    return ids;
  }

  inject(operation: Operation, ...errors: unknown[]): void {
    this.faults.set(operation, [...(this.faults.get(operation) ?? []), ...errors]);
  }

  get queued(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }

  protected fault(operation: Operation): void {
    this.calls[operation] += 1;
    const pending = this.faults.get(operation);
    if (pending !== undefined && pending.length > 0) throw pending.shift();
  }

  private holds(entry: FakeEntry): boolean {
    return this.leases.get(entry.runId)?.leaseToken === entry.leaseToken;
  }

  async lease(request: DrainLeaseRequest): Promise<DrainLeaseResult<FakeEntry>> {
    this.fault("lease");
    this.leaseCounts.push(request.count);
    const queue = this.queues.get(`${request.orgId}/${request.envId}`) ?? [];
    const invalid = this.invalidNextLease.splice(0, request.count);
    const taken = queue.splice(0, request.count - invalid.length);
    const entries = taken.map((entry) => {
      this.token += 1;
      const leased = {
        ...entry,
        leaseToken: this.token,
        leaseDeadline: this.now + (request.leaseMs ?? 30_000),
      };
      this.leases.set(entry.runId, leased);
      return leased;
    });
    return { entries, invalid };
  }

  async extendLease(entry: FakeEntry, leaseMs = 30_000): Promise<DrainExtendResult> {
    this.fault("extendLease");
    if (!this.holds(entry)) return { outcome: "lease_lost" };
    const leaseDeadline = this.now + leaseMs;
    this.leases.set(entry.runId, { ...entry, leaseDeadline });
    return { outcome: "extended", leaseDeadline };
  }

  async ack(entry: FakeEntry): Promise<DrainAckResult> {
    this.fault("ack");
    return this.settleAck(entry);
  }

  protected settleAck(entry: FakeEntry): DrainAckResult {
    if (!this.holds(entry)) return { outcome: "lease_lost" };
    this.leases.delete(entry.runId);
    this.acked.push(entry.runId);
    return { outcome: "acked" };
  }

  async retry(entry: FakeEntry, _failure: { error: string }): Promise<DrainRetryResult> {
    this.fault("retry");
    if (!this.holds(entry)) return { outcome: "lease_lost" };
    const attempts = entry.attempts + 1;
    if (attempts >= this.maxAttempts) return { outcome: "exhausted", attempts };
    this.leases.delete(entry.runId);
    this.retries.push({ ...entry, attempts });
    return { outcome: "scheduled", dueAt: this.now, delayMs: 0, attempts };
  }

  async fail(
    entry: FakeEntry,
    failure: { error: string; kind?: DrainFailureKind },
  ): Promise<DrainFailResult> {
    this.fault("fail");
    if (!this.holds(entry)) return { outcome: "lease_lost" };
    this.leases.delete(entry.runId);
    this.failed.push({ runId: entry.runId, error: failure.error, kind: failure.kind });
    return { outcome: "failed" };
  }

  async reapExpiredLeases(): Promise<DrainReapResult> {
    this.fault("reap");
    let reaped = 0;
    const failedEntries: DrainReapFailure[] = [];
    for (const [runId, entry] of this.leases) {
      if (entry.leaseDeadline > this.now) continue;
      this.leases.delete(runId);
      const attempts = entry.attempts + 1;
      if (attempts >= this.maxAttempts) {
        const error = "lease expired (attempts exhausted)";
        this.failed.push({ runId, error, kind: "attempts_exhausted" });
        this.failedRecords.set(runId, { ...entry, attempts });
        failedEntries.push({ orgId: entry.orgId, envId: entry.envId, runId, attempts, error });
        continue;
      }
      this.requeue({ ...entry, attempts });
      reaped += 1;
    }
    return { reaped, failed: failedEntries.length, failedEntries };
  }

  async getFailed(address: { runId: string }): Promise<Partial<FakeEntry> | undefined> {
    const entry = this.failedRecords.get(address.runId);
    if (entry === undefined) return undefined;
    // Like the buffer's FAILED record: no lease left to read.
    const { orgId, envId, runId, attempts, acceptedAt } = entry;
    return { orgId, envId, runId, attempts, acceptedAt };
  }

  async promoteDueRetries(): Promise<{ promoted: number }> {
    this.fault("promote");
    const due = this.retries.splice(0);
    for (const entry of due) this.requeue(entry);
    return { promoted: due.length };
  }

  shards(): number[] {
    return [0, 1];
  }

  async activeOrgs(shard: number): Promise<string[]> {
    this.fault("enumerate");
    const orgs = new Set<string>();
    for (const [key, queue] of this.queues) {
      const org = key.split("/")[0] ?? "";
      if (queue.length > 0 && org.length % 2 === shard) orgs.add(org);
    }
    return [...orgs];
  }

  async activeEnvs(orgId: string): Promise<string[]> {
    const envs: string[] = [];
    for (const [key, queue] of this.queues) {
      const [org, env] = key.split("/");
      if (org === orgId && env !== undefined && queue.length > 0) envs.push(env);
    }
    return envs;
  }

  private requeue(entry: FakeEntry): void {
    const key = `${entry.orgId}/${entry.envId}`;
    this.queues.set(key, [entry, ...(this.queues.get(key) ?? [])]);
  }
}

/**
 * A {@link FakeDrainSource} with `ackMany`: records each batch's size, and
 * holds every batch while {@link BatchingFakeDrainSource.ackGate} is pending.
 */
export class BatchingFakeDrainSource extends FakeDrainSource {
  readonly ackBatches: number[] = [];
  ackGate: Promise<void> = Promise.resolve();

  async ackMany(entries: readonly FakeEntry[]): Promise<DrainAckResult[]> {
    this.fault("ackMany");
    this.ackBatches.push(entries.length);
    await this.ackGate;
    return entries.map((entry) => this.settleAck(entry));
  }
}
