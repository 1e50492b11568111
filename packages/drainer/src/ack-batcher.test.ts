import { describe, expect, test } from "vitest";
import { AckBatcher, MAX_ACK_BATCH } from "./ack-batcher.js";
import { BatchingFakeDrainSource, FakeDrainSource } from "./test-support/fake-drain-source.js";

async function leased(source: FakeDrainSource, count: number) {
  source.add("org", "env", count);
  return (await source.lease({ orgId: "org", envId: "env", count })).entries;
}

describe("AckBatcher", () => {
  test("acks queued in one turn of the event loop go out as one ackMany call, each with its own result", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 5);
    const batcher = new AckBatcher(source);
    const stale = entries[4] === undefined ? undefined : { ...entries[4], leaseToken: -1 };
    if (stale === undefined) throw new Error("nothing leased");
    const results = await Promise.all([...entries.slice(0, 4), stale].map((entry) => batcher.ack(entry)));
    expect(results.map((result) => result.outcome)).toEqual([
      "acked",
      "acked",
      "acked",
      "acked",
      "lease_lost",
    ]);
    expect(source.ackBatches).toEqual([5]);
    expect(source.calls.ack).toBe(0);
  });

  test("a full batch is sent at once, without waiting for the next turn", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, MAX_ACK_BATCH + 1);
    const batcher = new AckBatcher(source);
    const pending = entries.map((entry) => batcher.ack(entry));
    expect(source.ackBatches).toEqual([MAX_ACK_BATCH]);
    await Promise.all(pending);
    expect(source.ackBatches).toEqual([MAX_ACK_BATCH, 1]);
  });

  test("an ackMany that throws rejects every ack of its batch", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 2);
    source.inject("ackMany", new Error("connection reset"));
    const batcher = new AckBatcher(source);
    const results = await Promise.allSettled(entries.map((entry) => batcher.ack(entry)));
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
  });

  test("flush sends queued acks at once and waits for them", async () => {
    const source = new BatchingFakeDrainSource();
    const entries = await leased(source, 3);
    let open = () => {};
    source.ackGate = new Promise((resolve) => {
      open = resolve;
    });
    const batcher = new AckBatcher(source);
    const pending = entries.map((entry) => batcher.ack(entry));
    let flushed = false;
    const flushing = batcher.flush().then(() => {
      flushed = true;
    });
    expect(source.ackBatches).toEqual([3]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    open();
    await flushing;
    expect(source.acked).toHaveLength(3);
    await Promise.all(pending);
  });

  test("a source without ackMany gets one ack call per entry", async () => {
    const source = new FakeDrainSource();
    const entries = await leased(source, 3);
    const batcher = new AckBatcher(source);
    await Promise.all(entries.map((entry) => batcher.ack(entry)));
    expect(source.calls.ack).toBe(3);
    expect(source.acked).toHaveLength(3);
  });
});
