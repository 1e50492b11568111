import type { DrainAckResult, DrainEntry, DrainSource } from "./drain-source.js";

/** Most entries one coalesced `ackMany` call carries. */
export const MAX_ACK_BATCH = 500;

/** An ack waiting for its answer, with what the answer is recorded with. */
export interface PendingAck<Entry extends DrainEntry> {
  readonly entry: Entry;
  /** How long the entry's handler ran, ms. */
  readonly handlerDurationMs: number;
}

/**
 * Called once per ack: with its result, or with the error of the call that
 * carried it (the entry stays leased; the reaper returns it).
 */
export type AckSettled<Entry extends DrainEntry> = (
  ack: PendingAck<Entry>,
  result: DrainAckResult | undefined,
  error?: unknown,
) => void;

/**
 * Coalesces the acks of entries whose handlers finished close together into
 * `ackMany` calls. An ack is queued and sent on the next turn of the event
 * loop (`setImmediate`), or at once when {@link MAX_ACK_BATCH} are queued, so
 * no ack waits longer than the current turn. Acks of different groups (the
 * source's `ackGroup`: a cluster's shards) go in separate calls, so a shard
 * whose master is down holds back only its own. A source without `ackMany`
 * gets one `ack` per entry, sent at once. Every answer goes to one
 * `onSettled` callback: no promise per entry.
 */
export class AckBatcher<Entry extends DrainEntry> {
  private queued = new Map<number, Array<PendingAck<Entry>>>();
  private queuedCount = 0;
  private unanswered = 0;
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly source: DrainSource<Entry>,
    private readonly onSettled: AckSettled<Entry>,
  ) {}

  /** Acks queued or on the wire, not answered yet. */
  get pending(): number {
    return this.unanswered;
  }

  /** Acknowledges one entry; its answer goes to `onSettled`. */
  ack(ack: PendingAck<Entry>): void {
    this.unanswered += 1;
    if (this.source.ackMany === undefined) {
      let answer: Promise<DrainAckResult>;
      try {
        answer = this.source.ack(ack.entry);
      } catch (error) {
        // A source that throws instead of rejecting is settled all the same.
        this.settle(ack, undefined, error);
        return;
      }
      this.track(
        answer.then(
          (result) => this.settle(ack, result),
          (error: unknown) => this.settle(ack, undefined, error),
        ),
      );
      return;
    }
    const group = this.source.ackGroup?.(ack.entry) ?? 0;
    const batch = this.queued.get(group);
    if (batch === undefined) this.queued.set(group, [ack]);
    else batch.push(ack);
    this.queuedCount += 1;
    if (this.queuedCount >= MAX_ACK_BATCH) this.send();
    else this.scheduled ??= setImmediate(() => this.send());
  }

  /** Sends every queued ack now and resolves once every ack sent so far is answered and settled. */
  async flush(): Promise<void> {
    this.send();
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  private send(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.queuedCount === 0) return;
    const batches = this.queued;
    this.queued = new Map();
    this.queuedCount = 0;
    for (const batch of batches.values()) this.track(this.sendBatch(batch));
  }

  private track(sending: Promise<void>): void {
    const tracked: Promise<void> = sending.then(() => {
      this.sending.delete(tracked);
    });
    this.sending.add(tracked);
  }

  private settle(ack: PendingAck<Entry>, result: DrainAckResult | undefined, error?: unknown): void {
    this.unanswered -= 1;
    try {
      this.onSettled(ack, result, error);
    } catch {
      // `onSettled` records the answer; a recorder that breaks its never-throw
      // contract must not leave the rest of a batch unsettled.
    }
  }

  private async sendBatch(batch: ReadonlyArray<PendingAck<Entry>>): Promise<void> {
    let results: readonly DrainAckResult[];
    try {
      const ackMany = this.source.ackMany;
      if (ackMany === undefined) throw new Error("the source lost its ackMany method");
      results = await ackMany.call(
        this.source,
        batch.map((item) => item.entry),
      );
      if (results.length !== batch.length) {
        throw new Error(`ackMany answered ${results.length} results for ${batch.length} entries`);
      }
    } catch (error) {
      for (const item of batch) this.settle(item, undefined, error);
      return;
    }
    batch.forEach((item, index) => {
      const result = results[index];
      if (result === undefined)
        this.settle(item, undefined, new Error("ackMany answered no result for an entry"));
      else this.settle(item, result);
    });
  }
}
