import type { DrainEntry, DrainShardFailure, DrainSource } from "./drain-source.js";
import type { FairScheduler } from "./fair-scheduler.js";

/** Every active org of `source` with its active envs, through `activeSet` when the source has it. */
export async function readActiveSet<Entry extends DrainEntry>(
  source: DrainSource<Entry>,
): Promise<
  ReadonlyMap<string, readonly string[]> & { readonly unavailableShards?: readonly DrainShardFailure[] }
> {
  if (source.activeSet !== undefined) return source.activeSet();
  const orgLists = await Promise.all(source.shards().map((shard) => source.activeOrgs(shard)));
  const orgs = [...new Set(orgLists.flat())];
  const envLists = await Promise.all(orgs.map((orgId) => source.activeEnvs(orgId)));
  return new Map(orgs.map((orgId, index) => [orgId, envLists[index] ?? []]));
}

/**
 * Least time between two reads of the active set while the scheduler still
 * has orgs to serve. One read enumerates every shard and every active org, so
 * a fast drain over a few orgs would otherwise spend one of its Redis
 * commands in two on it; a newly active org waits at most this much longer.
 */
export const MIN_BUSY_REFRESH_INTERVAL_MS = 10;

/**
 * When the drainer re-reads its source's active set into the fair scheduler,
 * and the reads themselves: at most one at a time, inline or beside the
 * dispatcher.
 */
export class RoundRefresh<Entry extends DrainEntry> {
  private requested = true;
  private refreshed = false;
  private leasedSince = 0;
  private lastReadAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly source: DrainSource<Entry>,
    private readonly scheduler: FairScheduler,
    private readonly clock: () => number = Date.now,
    /** Told of shards a read could not reach; their orgs wait while the others are served. */
    private readonly onUnavailableShards: (failures: readonly DrainShardFailure[]) => void = () => {},
  ) {}

  /** Forgets the last read, for a drainer that starts again: the next grant waits for a fresh one. */
  reset(): void {
    this.requested = true;
    this.refreshed = false;
  }

  /** Asks for a read before the next grant (after an error, or when entries became ready). */
  request(): void {
    this.requested = true;
  }

  /** Counts entries a lease took since the last read. */
  leased(count: number): void {
    this.leasedSince += count;
  }

  /** A read was asked for: no grant until it is done. */
  get mustWait(): boolean {
    return this.requested;
  }

  /**
   * A read is due at a round's end, but while orgs are still being served no
   * more often than once per `concurrency` entries leased and once per
   * {@link MIN_BUSY_REFRESH_INTERVAL_MS}, so a few busy orgs do not pay a
   * full enumeration every round; a light org still waits at most about
   * max(quantum, concurrency) + concurrency handler slots, or that interval.
   * With nothing left to serve, or when asked, a read is due at once.
   */
  due(concurrency: number): boolean {
    if (this.requested) return true;
    if (!this.scheduler.needsRefresh) return false;
    if (this.scheduler.isEmpty) return true;
    return this.leasedSince >= concurrency && this.clock() - this.lastReadAt >= MIN_BUSY_REFRESH_INTERVAL_MS;
  }

  /** The last whole round leased nothing: nothing is ready. */
  get idle(): boolean {
    return this.refreshed && this.leasedSince === 0;
  }

  /** The read on the wire, if any. */
  get pending(): Promise<void> | undefined {
    return this.reading;
  }

  /** Reads now and waits for it (or for the read already on the wire). */
  async now(): Promise<void> {
    if (this.reading !== undefined) return this.reading;
    await this.read();
  }

  /** Starts a read beside the dispatcher unless one is on the wire; `onError` gets its failure. */
  inBackground(onError: (error: unknown) => void, onDone: () => void): void {
    if (this.reading !== undefined) return;
    this.reading = this.read()
      .catch((error: unknown) => {
        this.requested = true;
        onError(error);
      })
      .finally(() => {
        this.reading = undefined;
        onDone();
      });
  }

  private async read(): Promise<void> {
    this.lastReadAt = this.clock();
    const active = await readActiveSet(this.source);
    this.scheduler.update(active);
    if (active.unavailableShards !== undefined && active.unavailableShards.length > 0) {
      this.onUnavailableShards(active.unavailableShards);
    }
    this.requested = false;
    this.refreshed = true;
    this.leasedSince = 0;
  }
}
