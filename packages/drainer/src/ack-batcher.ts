import type { DrainAckResult, DrainEntry, DrainSource } from "./drain-source.js";

/** Most entries one coalesced `ackMany` call carries. */
export const MAX_ACK_BATCH = 500;

/**
 * Coalesces the acks of entries whose handlers finished close together into
 * `ackMany` calls. An ack is queued and sent on the next turn of the event
 * loop (`setImmediate`), or at once when {@link MAX_ACK_BATCH} are queued, so
 * no ack waits longer than the current turn. A source without `ackMany` gets
 * one `ack` per entry, sent at once.
 */
export class AckBatcher<Entry extends DrainEntry> {
  private queued: Array<{
    readonly entry: Entry;
    readonly resolve: (result: DrainAckResult) => void;
    readonly reject: (error: unknown) => void;
  }> = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly source: DrainSource<Entry>) {}

  /** Acknowledges one entry; rejects when the source call fails. */
  ack(entry: Entry): Promise<DrainAckResult> {
    if (this.source.ackMany === undefined) return this.source.ack(entry);
    return new Promise<DrainAckResult>((resolve, reject) => {
      this.queued.push({ entry, resolve, reject });
      if (this.queued.length >= MAX_ACK_BATCH) this.send();
      else this.scheduled ??= setImmediate(() => this.send());
    });
  }

  /** Sends every queued ack now and resolves once every ack call sent so far has settled. */
  async flush(): Promise<void> {
    this.send();
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  private send(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    const sending: Promise<void> = this.sendBatch(batch).finally(() => {
      this.sending.delete(sending);
    });
    this.sending.add(sending);
  }

  private async sendBatch(batch: AckBatcher<Entry>["queued"]): Promise<void> {
    try {
      const ackMany = this.source.ackMany;
      if (ackMany === undefined) throw new Error("the source lost its ackMany method");
      const results = await ackMany.call(
        this.source,
        batch.map((item) => item.entry),
      );
      if (results.length !== batch.length) {
        throw new Error(`ackMany answered ${results.length} results for ${batch.length} entries`);
      }
      batch.forEach((item, index) => {
        const result = results[index];
        if (result === undefined) item.reject(new Error("ackMany answered no result for an entry"));
        else item.resolve(result);
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
