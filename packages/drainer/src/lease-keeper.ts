import type { MollifierRecorder } from "@mollifier/telemetry";
import type { DrainEntry, DrainSource } from "./drain-source.js";

/** One entry's lease while its handler runs, as {@link LeaseKeeper.hold} hands it out. */
export interface HeldLease<Entry extends DrainEntry> {
  /** The entry with its latest lease deadline. */
  readonly entry: Entry;
  /** Aborted when the lease is lost or the drainer gives up on the handler. */
  readonly signal: AbortSignal;
}

export interface LeaseKeeperOptions<Entry extends DrainEntry> {
  readonly source: DrainSource<Entry>;
  readonly recorder: MollifierRecorder;
  readonly leaseMs: number;
  /** Time from a lease (or its last extension) to its next extension. */
  readonly intervalMs: number;
  /** Monotonic ms; the timers' clock. */
  readonly now?: () => number;
}

class Held<Entry extends DrainEntry> implements HeldLease<Entry> {
  dueAt: number;
  extending: Promise<void> | undefined;
  released = false;
  // Created only when the handler reads its signal: most handlers never do,
  // and an AbortController per entry is a measurable share of a fast drain.
  private controller: AbortController | undefined;
  private abortReason: Error | undefined;

  constructor(
    public entry: Entry,
    dueAt: number,
  ) {
    this.dueAt = dueAt;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.controller?.abort(this.abortReason);
  }
}

/**
 * Keeps the leases of every entry whose handler is running, with one timer
 * for all of them rather than one per entry: each lease is extended
 * `intervalMs` after it was taken (or last extended) until it is released.
 * A lost lease (the reaper returned the entry, another drainer may now hold
 * it) aborts its handler's signal and is no longer extended; a failed
 * extension is reported and tried again at the next interval. Once
 * abandoned (the drainer stopped waiting for its handlers) nothing is
 * extended, so the leases expire and another drainer takes the entries.
 */
export class LeaseKeeper<Entry extends DrainEntry> {
  // In insertion order, which is due order: every hold and every extension
  // re-inserts with `now + intervalMs`, so the first lease is the next one due.
  private readonly held = new Set<Held<Entry>>();
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private abandoned = false;

  constructor(private readonly options: LeaseKeeperOptions<Entry>) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Leases held now. */
  get size(): number {
    return this.held.size;
  }

  /** Starts keeping `entry`'s lease. After {@link abandon}, the handle starts aborted and is not kept. */
  hold(entry: Entry): HeldLease<Entry> {
    const lease = new Held(entry, this.now() + this.options.intervalMs);
    if (this.abandoned) {
      lease.abort(abandonedError());
      return lease;
    }
    this.held.add(lease);
    if (this.timer === undefined) this.timer = this.schedule(this.options.intervalMs);
    else if (this.held.size === 1) this.timer.ref();
    return lease;
  }

  /**
   * Stops keeping a lease and answers the entry with its latest deadline: at
   * once, or once an extension on the wire has settled (most releases have
   * none, so they cost no promise).
   */
  release(handle: HeldLease<Entry>): Entry | Promise<Entry> {
    const lease = this.find(handle);
    lease.released = true;
    this.held.delete(lease);
    // With nothing held the timer stays, unreferenced, instead of being cleared:
    // with quick handlers the set empties about once per entry, and a new timer
    // each time cost more than the entry's lease keeping. Firing early is harmless:
    // it extends only what is due and re-arms for the first lease still held.
    if (this.held.size === 0) this.timer?.unref();
    if (lease.extending === undefined) return lease.entry;
    return lease.extending.then(() => lease.entry);
  }

  /** Stops extending every lease and aborts their handlers' signals; later holds start aborted. */
  abandon(): void {
    this.abandoned = true;
    this.clearTimer();
    for (const lease of this.held) lease.abort(abandonedError());
    this.held.clear();
  }

  /** Undoes {@link abandon}, for a drainer that starts again. */
  resume(): void {
    this.abandoned = false;
  }

  private find(handle: HeldLease<Entry>): Held<Entry> {
    if (!(handle instanceof Held)) throw new TypeError("not a lease held by this keeper");
    return handle;
  }

  private schedule(delayMs: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => this.extendDue(), Math.max(0, delayMs));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private extendDue(): void {
    this.timer = undefined;
    const now = this.now();
    const due: Array<Held<Entry>> = [];
    for (const lease of this.held) {
      if (lease.dueAt > now) break;
      due.push(lease);
    }
    for (const lease of due) {
      // Re-inserted last, due an interval from now, which keeps the set in due order.
      this.held.delete(lease);
      lease.dueAt = now + this.options.intervalMs;
      this.held.add(lease);
      // An extension still unanswered from the last interval is not doubled.
      lease.extending ??= this.extend(lease);
    }
    const next = this.held.values().next();
    if (!next.done) this.timer = this.schedule(next.value.dueAt - now);
  }

  private async extend(lease: Held<Entry>): Promise<void> {
    const { source, recorder, leaseMs } = this.options;
    const { orgId, envId, runId } = lease.entry;
    try {
      const result = await source.extendLease(lease.entry, leaseMs);
      if (result.outcome === "extended") {
        lease.entry = { ...lease.entry, leaseDeadline: result.leaseDeadline };
      } else if (!lease.released) {
        this.held.delete(lease);
        recorder.degraded({ component: "drainer", reason: "lease_lost", orgId, envId, runId });
        lease.abort(new Error("the entry's lease was lost"));
      }
    } catch (error) {
      recorder.degraded({ component: "drainer", reason: "lease_extend_failed", error, orgId, envId, runId });
    } finally {
      lease.extending = undefined;
    }
  }
}

function abandonedError(): Error {
  return new Error("the drainer stopped waiting for this handler");
}
