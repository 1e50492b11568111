import { answeredWithin } from "@mollifier/core";
import type { MollifierRecorder } from "@mollifier/telemetry";
import pLimit, { type LimitFunction } from "p-limit";
import { AckBatcher } from "./ack-batcher.js";
import type { HandlerSample } from "./adaptive-concurrency.js";
import { AdaptiveConcurrency } from "./adaptive-concurrency.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import type { DrainEntry, DrainSource } from "./drain-source.js";
import { DrainerError, requireNumber } from "./drainer-error.js";
import {
  type DrainerOptions,
  type DrainerStopResult,
  type ResolvedDrainerOptions,
  resolveDrainerOptions,
} from "./drainer-options.js";
import { ackRecorder, type EntryProcessorContext, processEntry } from "./entry-processor.js";
import { type DrainGrant, FairScheduler } from "./fair-scheduler.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { LoopBackoff } from "./loop-backoff.js";
import { runMaintenance } from "./maintenance-loop.js";
import { RoundRefresh } from "./round-refresh.js";
import { SourceFailureReporter } from "./terminal-failure.js";
import { WakeSignal } from "./wake-signal.js";

type DrainerState = "idle" | "running" | "stopping";

/** Most entries asked of one `lease` call (the buffer's own cap). */
const MAX_LEASE_BATCH = 1_000;
/** Most `lease` calls one process has outstanding at once. */
const MAX_PARALLEL_LEASES = 8;
/** Unanswered acks, in pools of `concurrency`, past which the dispatcher stops leasing. */
const MAX_UNANSWERED_ACK_POOLS = 2;
/**
 * Longest the dispatcher keeps a grant's slots reserved for its `lease` call. A shard whose master
 * is down (a cluster failing over) leaves the call unanswered for seconds; past this the slots go
 * back to the pool and the env leaves the rotation, and entries the call still brings are handled
 * when they come.
 */
const LEASE_WAIT_MS = 500;
/** Longest a stopping drainer sleeps between checks of its in-flight entries (each finished entry wakes it). */
const STOP_CHECK_MS = 1_000;

/**
 * Drains a lease-based source into a handler: a continuous pool of at most
 * `concurrency` entries in flight, filled fairly (deficit round robin over
 * orgs, then envs), under an optional shared rate cap and adaptive
 * concurrency, with the lease reaper and due-retry promoter running beside it.
 *
 * @example
 * const drainer = new Drainer({
 *   source: new MollifierBuffer({ redis }),
 *   handler: async (entry) => engine.materialise(entry.snapshot),
 *   isRetryable: (error) => !(error instanceof ValidationError),
 *   // Every terminal failure: handler errors, exhausted retries, expired leases, undecodable entries.
 *   onTerminalFailure: async ({ runId, entry, message }) => engine.writeFailedRun(runId, entry?.snapshot, message),
 *   rateLimiter: new SharedRateLimiter({ redis, ratePerSecond: 500 }),
 * });
 * drainer.start();
 * process.once("SIGTERM", () => void drainer.stop({ timeoutMs: 10_000 }));
 */
export class Drainer<Entry extends DrainEntry> {
  private readonly options: ResolvedDrainerOptions<Entry>;
  private processor: EntryProcessorContext<Entry>;
  private readonly sourceFailures: SourceFailureReporter<Entry>;
  private readonly acks: AckBatcher<Entry>;
  private readonly leases: LeaseKeeper<Entry>;
  private readonly scheduler: FairScheduler;
  private readonly refresh: RoundRefresh<Entry>;
  private readonly adaptive: AdaptiveConcurrency | undefined;
  private readonly recorder: MollifierRecorder;
  private readonly wake = new WakeSignal();
  private readonly slotFreed = new WakeSignal();
  // The worker pool: runs the entries the dispatcher launches, `concurrency`
  // at once (changed live by adaptive mode), and counts them.
  private readonly pool: LimitFunction;
  private readonly entryFinished = new WakeSignal();
  private readonly pendingLeases = new Set<Promise<void>>();
  private readonly leaseFailures: Array<{ error: unknown }> = [];
  // Opened by handler errors that say the database is down; leasing pauses while it is open.
  private readonly breaker: CircuitBreaker;
  private abandoned = new AbortController();
  private reservedSlots = 0;
  private currentState: DrainerState = "idle";
  private loops: Promise<void> | undefined;
  private stopping: Promise<DrainerStopResult> | undefined;

  constructor(options: DrainerOptions<Entry>) {
    this.options = resolveDrainerOptions(options);
    const { clock, recorder } = this.options;
    this.recorder = recorder;
    this.scheduler = new FairScheduler({ quantum: this.options.quantum, orgWeights: options.orgWeights });
    this.refresh = new RoundRefresh(options.source, this.scheduler, clock, (failures) => {
      for (const { error } of failures) {
        recorder.degraded({ component: "drainer", reason: "shard_unavailable", error });
      }
    });
    this.adaptive =
      options.adaptive === undefined || options.adaptive === false
        ? undefined
        : new AdaptiveConcurrency({ ...options.adaptive, maxConcurrency: this.options.concurrency, clock });
    this.pool = pLimit(this.adaptive?.limit ?? this.options.concurrency);
    const recordAck = ackRecorder<Entry>(recorder, clock);
    // Succeeded entries whose ack is not answered yet no longer hold a handler
    // slot, but leasing pauses while too many are unanswered.
    this.acks = new AckBatcher(options.source, (ack, result, error) => {
      recordAck(ack, result, error);
      if (this.enoughFreeSlots()) this.slotFreed.wake();
    });
    this.leases = new LeaseKeeper({
      source: options.source,
      recorder,
      leaseMs: this.options.leaseMs,
      intervalMs: this.options.leaseExtendIntervalMs,
    });
    this.sourceFailures = new SourceFailureReporter(options.source, options.onTerminalFailure, recorder);
    this.breaker = new CircuitBreaker({
      ...options.circuitBreaker,
      onStateChange: (state) => {
        if (state === "open") recorder.degraded({ component: "drainer", reason: "circuit_open" });
      },
    });
    this.processor = {
      source: options.source,
      acks: this.acks,
      handler: options.handler,
      isRetryable: this.options.isRetryable,
      isUnavailable: this.options.isUnavailable,
      breaker: this.breaker,
      abandoned: this.abandoned.signal,
      onTerminalFailure: options.onTerminalFailure,
      recorder,
      clock,
      leases: this.leases,
    };
  }

  /** `idle` before start and after stop, `running`, or `stopping` while stop waits. */
  get state(): DrainerState {
    return this.currentState;
  }

  /** Entries leased by this process whose handling has not finished. */
  get inFlight(): number {
    return this.pool.activeCount + this.pool.pendingCount;
  }

  /** The concurrency in force (lower than configured while adaptive mode backs off). */
  get concurrency(): number {
    return this.pool.concurrency;
  }

  /** Replaces the per-org weights of the fair scheduler. */
  setOrgWeights(orgWeights: Readonly<Record<string, number>>): void {
    this.scheduler.setOrgWeights(orgWeights);
  }

  /** Starts draining. Does nothing when already running; throws `STOP_IN_PROGRESS` while a stop is pending. */
  start(): void {
    if (this.currentState === "running") return;
    if (this.currentState === "stopping") {
      throw new DrainerError("STOP_IN_PROGRESS", "start() called while stop() is waiting for handlers");
    }
    this.currentState = "running";
    this.wake.open();
    this.slotFreed.open();
    this.leases.resume();
    if (this.abandoned.signal.aborted) {
      this.abandoned = new AbortController();
      this.processor = { ...this.processor, abandoned: this.abandoned.signal };
    }
    this.refresh.reset();
    this.leaseFailures.length = 0;
    this.reportLimits();
    const maintenance = runMaintenance({
      source: this.options.source,
      recorder: this.recorder,
      intervalMs: this.options.maintenanceIntervalMs,
      batchSize: this.options.maintenanceBatchSize,
      backoff: this.options.backoff,
      wake: this.wake,
      running: () => this.running,
      onReady: () => this.refresh.request(),
      onFailed: (failure, redelivered) => this.sourceFailures.report(failure, redelivered),
    });
    this.loops = Promise.all([this.dispatchLoop(), maintenance]).then(() => undefined);
  }

  /**
   * Stops leasing at once (idle sleeps end immediately) and waits up to
   * `timeoutMs` for in-flight handlers. Handlers still running then keep
   * running, but their leases are no longer extended, so the reaper hands
   * their entries to another drainer. Safe to call repeatedly or concurrently.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<DrainerStopResult> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.currentState === "idle") return Promise.resolve({ outcome: "stopped" });
    const timeoutMs = requireNumber("timeoutMs", options.timeoutMs ?? this.options.stopTimeoutMs, 0, true);
    this.currentState = "stopping";
    this.wake.close();
    this.slotFreed.close();
    this.stopping = this.waitForStop(timeoutMs).finally(() => {
      this.currentState = "idle";
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async waitForStop(timeoutMs: number): Promise<DrainerStopResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timed_out">((resolve) => {
      timer = setTimeout(() => resolve("timed_out"), timeoutMs);
    });
    const drained = (async () => {
      await this.loops;
      await this.refresh.pending;
      // Leases still on the wire launch their entries; those are waited for too.
      // Finished handlers may still have acks queued for the next batch: send them now.
      while (this.inFlight > 0 || this.pendingLeases.size > 0 || this.acks.pending > 0) {
        const entry = this.inFlight > 0 ? this.entryFinished.sleep(STOP_CHECK_MS) : undefined;
        await Promise.all([...this.pendingLeases, entry, this.acks.flush()]);
      }
      // Hooks for entries the source failed itself (reaped, invalid) finish too.
      await this.sourceFailures.settled();
      return "stopped" as const;
    })();
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (outcome === "stopped") return { outcome };
    this.leases.abandon();
    // Entries waiting for the database give up; their leases expire and the reaper returns them.
    this.abandoned.abort(new DrainerError("STOPPED", "the drainer stopped waiting for its handlers"));
    // Acks of handlers that did finish are sent now; waiting for them could outlast the timeout.
    void this.acks.flush();
    return { outcome, inFlight: this.inFlight };
  }

  private get running(): boolean {
    return this.currentState === "running";
  }

  private reportLimits(): void {
    this.recorder.drainLimits({
      ratePerSecond: this.options.rateLimiter?.ratePerSecond,
      concurrency: this.concurrency,
    });
  }

  private async dispatchLoop(): Promise<void> {
    const backoff = new LoopBackoff(this.options.backoff);
    while (this.running) {
      try {
        await this.dispatchOnce();
        backoff.succeeded();
      } catch (error) {
        this.refresh.request();
        this.recorder.degraded({ component: "drainer", reason: "loop_error", error });
        await this.wake.sleep(backoff.failed());
      }
    }
  }

  /** One step of the dispatcher: wait for a slot, refresh the active set, or lease one grant. */
  private async dispatchOnce(): Promise<void> {
    // Lease calls that failed since the last step count as one failure: one backoff step, not one
    // per call (several leases to one dead shard used to sleep 100, 200, 400, 800 ms in a row).
    const [failure, ...more] = this.leaseFailures.splice(0);
    if (failure !== undefined) {
      for (const { error } of more)
        this.recorder.degraded({ component: "drainer", reason: "loop_error", error });
      throw failure.error;
    }
    // The database is down: new entries would only wait beside the ones already waiting. While
    // the circuit is open nothing is leased; half-open, the waiting entries are the probes, and
    // with none waiting one entry is leased to be the probe. (No Redis or database call here.)
    const circuit = this.breaker.state;
    if (circuit === "open" || (circuit === "half_open" && this.inFlight + this.reservedSlots > 0)) {
      await this.wake.sleep(this.options.idleDelayMs);
      return;
    }
    const free = (circuit === "half_open" ? 1 : this.concurrency) - this.inFlight - this.reservedSlots;
    if (!this.enoughFreeSlots() || this.pendingLeases.size >= MAX_PARALLEL_LEASES) {
      await this.slotFreed.sleep(this.options.idleDelayMs);
      return;
    }
    if (this.refresh.due(this.concurrency)) {
      if (!this.refresh.mustWait && !this.scheduler.isEmpty) {
        // The next round is read while this one keeps being served, so the
        // pool does not run dry at every round's end.
        this.refresh.inBackground(
          // Surfaced by the dispatcher, which reports it and backs off.
          (error) => this.leaseFailures.push({ error }),
          () => this.slotFreed.wake(),
        );
      } else {
        await this.refreshBeforeLeasing();
        return;
      }
    }
    let grant = this.scheduler.next(Math.min(free, MAX_LEASE_BATCH));
    if (grant === undefined) return;
    const limiter = this.options.rateLimiter;
    if (limiter !== undefined) {
      const tokens = await limiter.acquire(grant.count);
      if (tokens.outcome === "limited") {
        this.scheduler.refund(grant, grant.count);
        await this.wake.sleep(tokens.retryAfterMs);
        return;
      }
      this.scheduler.refund(grant, grant.count - tokens.count);
      grant = { ...grant, count: Math.min(grant.count, tokens.count) };
    }
    if (!this.running) {
      this.scheduler.refund(grant, grant.count);
      return;
    }
    // The lease runs beside the dispatcher (up to MAX_PARALLEL_LEASES at once),
    // its slots reserved, so a Redis round trip does not idle the next grant.
    this.reservedSlots += grant.count;
    const pending: Promise<void> = this.leaseGrant(grant).finally(() => {
      this.pendingLeases.delete(pending);
      this.slotFreed.wake();
    });
    this.pendingLeases.add(pending);
  }

  // While entries are in flight, lease once a quarter of the slots is free
  // rather than one slot at a time: one script call then leases a batch.
  // Not a tick barrier: a slow handler holds only its own slot. A handler's
  // slot is free once it returns, before its ack is answered, so a slot costs
  // one round trip (the lease) rather than two; acks that lag by two whole
  // pools' worth hold leasing back.
  private enoughFreeSlots(): boolean {
    if (this.acks.pending >= MAX_UNANSWERED_ACK_POOLS * this.concurrency) return false;
    const busy = this.inFlight + this.reservedSlots;
    const minimumBatch = busy === 0 ? 1 : Math.max(1, Math.floor(this.concurrency / 4));
    return this.concurrency - busy >= minimumBatch;
  }

  private async leaseGrant(grant: DrainGrant): Promise<void> {
    const leasing = this.options.source.lease({
      orgId: grant.orgId,
      envId: grant.envId,
      count: grant.count,
      leaseMs: this.options.leaseMs,
    });
    try {
      const { entries, invalid } = await answeredWithin(leasing, LEASE_WAIT_MS, () => {
        // Too late for this grant, but what the call leases is this process's to handle.
        // (A drainer stopped meanwhile leaves them to the reaper.)
        leasing.then(
          (late) => {
            if (this.running) this.takeLeased(grant, late);
          },
          () => {},
        );
        return new DrainerError(
          "LEASE_UNANSWERED",
          `no answer to lease (${grant.orgId}/${grant.envId}) within ${LEASE_WAIT_MS} ms`,
        );
      });
      this.scheduler.complete(grant, entries.length + invalid.length);
      this.refresh.leased(entries.length + invalid.length);
      this.takeLeased(grant, { entries, invalid });
    } catch (error) {
      // The env leaves the rotation until the next read of the active set, which leaves out a
      // shard that cannot be reached: the other shards' envs keep their turns meanwhile.
      this.scheduler.complete(grant, 0);
      this.refresh.request();
      // Surfaced by the dispatcher, which reports it and backs off.
      this.leaseFailures.push({ error });
    } finally {
      this.reservedSlots -= grant.count;
    }
  }

  // Runs what a lease call brought: its entries into the pool, the ones it rejected to the hook.
  private takeLeased(grant: DrainGrant, leased: Awaited<ReturnType<DrainSource<Entry>["lease"]>>): void {
    for (const rejected of leased.invalid) {
      this.sourceFailures.report({
        kind: "invalid_entry",
        orgId: grant.orgId,
        envId: grant.envId,
        runId: rejected.runId,
        attempts: 0,
        message: rejected.error,
      });
    }
    for (const entry of leased.entries) this.launch(entry);
  }

  /** Nothing left to grant (or a read was asked for): read the active set before leasing again. */
  private async refreshBeforeLeasing(): Promise<void> {
    if (this.refresh.pending !== undefined) {
      await this.refresh.pending;
      return;
    }
    if (this.pendingLeases.size > 0) {
      // Let outstanding leases report what they took before judging the round.
      await Promise.race(this.pendingLeases);
      return;
    }
    // A whole round that leased nothing means nothing is ready: sleep before asking again.
    if (this.refresh.idle) await this.wake.sleep(this.options.idleDelayMs);
    if (!this.running) return;
    await this.refresh.now();
  }

  private launch(entry: Entry): void {
    void this.pool(this.handle, entry).then(this.settleEntry);
  }

  // processEntry settles every source error itself and calls back once per
  // entry, so the pool's promise never rejects.
  private readonly handle = (entry: Entry): Promise<HandlerSample | undefined> =>
    new Promise((resolve) => processEntry(entry, this.processor, resolve));

  // Runs once the pool has counted the entry out.
  private readonly settleEntry = (sample: HandlerSample | undefined): void => {
    if (sample !== undefined) {
      try {
        const changed = this.adaptive?.record(sample);
        if (changed !== undefined) {
          this.pool.concurrency = changed;
          this.reportLimits();
        }
      } catch {
        // A recorder that throws here broke its contract; the entry is settled regardless.
      }
    }
    this.entryFinished.wake();
    // Waking the dispatcher for a slot it would not lease into yet only
    // makes it sleep again; a lease finishing wakes it regardless.
    if (this.enoughFreeSlots()) this.slotFreed.wake();
  };
}
