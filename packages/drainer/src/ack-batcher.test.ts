import { describe, expect, test } from "vitest";
import { AckBatcher, MAX_ACK_BATCH } from "./ack-batcher.js";
import type { DrainAckResult } from "./drain-source.js";
import {
  BatchingFakeDrainSource,
  FakeDrainSource,
  type FakeEntry,
} from "./test-support/fake-drain-source.js";

async function leased(source: FakeDrainSource, count: number) {
  source.add("org", "env", count);
  return (await source.lease({ orgId: "org", envId: "env", count })).entries;
}

/** A batcher whose answers are collected, keyed by run id, in the order they arrive. */
function collecting(source: FakeDrainSource) {
  const answers: Array<{ runId: string; result: DrainAckResult | undefined; error: unknown }> = [];
  const batcher = new AckBatcher<FakeEntry>(source, ({ entry }, result, error) => {
    answers.push({ runId: entry.runId, result, error });
  });
  const ack = (entry: FakeEntry) => batcher.ack({ entry, handlerDurationMs: 1 });
  return { batcher, answers, ack };
}

describe("AckBatcher", () => {
  test("acks queued in one turn of the event loop go out as one ackMany call, each with its own result", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 5);
    const { batcher, answers, ack } = collecting(source);
    const stale = entries[4] === undefined ? undefined : { ...entries[4], leaseToken: -1 };
    if (stale === undefined) throw new Error("nothing leased");
    for (const entry of [...entries.slice(0, 4), stale]) ack(entry);
    expect(batcher.pending).toBe(5);
    await batcher.flush();
    expect(answers.map((answer) => answer.result?.outcome)).toEqual([
      "acked",
      "acked",
      "acked",
      "acked",
      "lease_lost",
    ]);
    expect(batcher.pending).toBe(0);
    expect(source.ackBatches).toEqual([5]);
    expect(source.calls.ack).toBe(0);
  });

  test("acks of different groups go in separate calls, and a group that cannot answer holds back only its own", async () => {
    // Two shards of a cluster: org "a" on a master that answers, org "down" on one failing over.
    let releaseDown: () => void = () => {};
    const downAnswers = new Promise<void>((resolve) => {
      releaseDown = resolve;
    });
    class ShardedSource extends BatchingFakeDrainSource {
      ackGroup(entry: FakeEntry): number {
        return entry.orgId === "down" ? 1 : 0;
      }
      override async ackMany(entries: readonly FakeEntry[]): Promise<DrainAckResult[]> {
        if (entries.some((entry) => entry.orgId === "down")) await downAnswers;
        return super.ackMany(entries);
      }
    }
    const source = new ShardedSource();
    source.add("a", "env", 2);
    source.add("down", "env", 2);
    const healthy = (await source.lease({ orgId: "a", envId: "env", count: 2 })).entries;
    const stuck = (await source.lease({ orgId: "down", envId: "env", count: 2 })).entries;
    const { batcher, answers, ack } = collecting(source);
    for (const entry of [healthy[0], stuck[0], healthy[1], stuck[1]]) if (entry) ack(entry);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers.map((answer) => [answer.runId, answer.result?.outcome])).toEqual([
      [healthy[0]?.runId, "acked"],
      [healthy[1]?.runId, "acked"],
    ]);
    expect(batcher.pending).toBe(2);
    releaseDown();
    await batcher.flush();
    expect(answers).toHaveLength(4);
    expect(source.ackBatches.sort()).toEqual([2, 2]);
  });

  test("a full batch is sent at once, without waiting for the next turn", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, MAX_ACK_BATCH + 1);
    const { batcher, answers, ack } = collecting(source);
    for (const entry of entries) ack(entry);
    expect(source.ackBatches).toEqual([MAX_ACK_BATCH]);
    await batcher.flush();
    expect(source.ackBatches).toEqual([MAX_ACK_BATCH, 1]);
    expect(answers).toHaveLength(MAX_ACK_BATCH + 1);
  });

  test("an ackMany that throws settles every ack of its batch with that error", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 2);
    source.inject("ackMany", new Error("connection reset"));
    const { batcher, answers, ack } = collecting(source);
    for (const entry of entries) ack(entry);
    await batcher.flush();
    expect(answers.map((answer) => [answer.result, String(answer.error)])).toEqual([
      [undefined, "Error: connection reset"],
      [undefined, "Error: connection reset"],
    ]);
    expect(batcher.pending).toBe(0);
  });

  test("flush sends queued acks at once and resolves only once they are answered", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 3);
    let open = () => {};
    source.ackGate = new Promise((resolve) => {
      open = resolve;
    });
    const { batcher, answers, ack } = collecting(source);
    for (const entry of entries) ack(entry);
    let flushed = false;
    const flushing = batcher.flush().then(() => {
      flushed = true;
    });
    expect(source.ackBatches).toEqual([3]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    expect(batcher.pending).toBe(3);
    open();
    await flushing;
    expect(source.acked).toHaveLength(3);
    expect(answers).toHaveLength(3);
  });

  test("a source without ackMany gets one ack call per entry", async () => {
    const source = new FakeDrainSource();
    const entries = await leased(source, 3);
    const { batcher, answers, ack } = collecting(source);
    for (const entry of entries) ack(entry);
    await batcher.flush();
    expect(source.calls.ack).toBe(3);
    expect(source.acked).toHaveLength(3);
    expect(answers.map((answer) => answer.result?.outcome)).toEqual(["acked", "acked", "acked"]);
  });

  test("an onSettled that throws does not keep the rest of the batch from being settled", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 3);
    let settled = 0;
    const batcher = new AckBatcher<FakeEntry>(source, () => {
      settled += 1;
      throw new Error("a broken recorder");
    });
    for (const entry of entries) batcher.ack({ entry, handlerDurationMs: 1 });
    await batcher.flush();
    expect(settled).toBe(3);
    expect(batcher.pending).toBe(0);
  });
});
