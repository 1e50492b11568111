import { noopRecorder } from "@mollifier/telemetry";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { LeaseKeeper } from "./lease-keeper.js";
import { FakeDrainSource, type FakeEntry } from "./test-support/fake-drain-source.js";

const LEASE_MS = 3_000;
const INTERVAL_MS = 1_000;

async function setUp(count: number) {
  const source = new FakeDrainSource();
  source.add("org", "env", count);
  const { entries } = await source.lease({ orgId: "org", envId: "env", count, leaseMs: LEASE_MS });
  const degraded: string[] = [];
  const keeper = new LeaseKeeper<FakeEntry>({
    source,
    recorder: { ...noopRecorder, degraded: (event) => degraded.push(event.reason) },
    leaseMs: LEASE_MS,
    intervalMs: INTERVAL_MS,
    now: () => Date.now(),
  });
  return { source, entries, keeper, degraded };
}

/** Moves the fake clock (timers and `Date.now`) and the source's clock together. */
async function advance(source: FakeDrainSource, ms: number): Promise<void> {
  source.now += ms;
  await vi.advanceTimersByTimeAsync(ms);
}

describe("LeaseKeeper", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("every held lease is extended one interval after it was taken and after each extension, until released", async () => {
    const { source, entries, keeper } = await setUp(3);
    const [first, second, third] = entries;
    if (first === undefined || second === undefined || third === undefined) throw new Error("nothing leased");
    const held = [keeper.hold(first)];
    await advance(source, 400);
    held.push(keeper.hold(second), keeper.hold(third));
    expect(keeper.size).toBe(3);

    await advance(source, 599);
    expect(source.calls.extendLease).toBe(0);
    await advance(source, 1);
    expect(source.calls.extendLease).toBe(1);
    await advance(source, 400);
    expect(source.calls.extendLease).toBe(3);
    await advance(source, 600);
    expect(source.calls.extendLease).toBe(4);

    const [heldFirst, heldSecond, heldThird] = held;
    if (heldFirst === undefined || heldSecond === undefined || heldThird === undefined)
      throw new Error("no handle");
    const released = await keeper.release(heldFirst);
    // The entry comes back with the deadline of its latest extension.
    expect(released.leaseDeadline).toBe(source.now + LEASE_MS);
    await keeper.release(heldSecond);
    await keeper.release(heldThird);
    expect(keeper.size).toBe(0);
    await advance(source, 5 * INTERVAL_MS);
    expect(source.calls.extendLease).toBe(4);
  });

  test("a lease held after the set emptied is extended one interval after it was taken, and no earlier", async () => {
    const { source, entries, keeper } = await setUp(2);
    const [first, second] = entries;
    if (first === undefined || second === undefined) throw new Error("nothing leased");
    await keeper.release(keeper.hold(first));
    expect(keeper.size).toBe(0);
    // The timer armed for `first` is still pending when `second` is held.
    await advance(source, 400);
    keeper.hold(second);
    await advance(source, 600);
    expect(source.calls.extendLease).toBe(0);
    await advance(source, 399);
    expect(source.calls.extendLease).toBe(0);
    await advance(source, 1);
    expect(source.calls.extendLease).toBe(1);
    expect(source.leases.get(second.runId)?.leaseDeadline).toBe(source.now + LEASE_MS);
  });

  test("with nothing held, the keeper's timer does not keep the process alive", async () => {
    vi.useRealTimers();
    const { entries, keeper } = await setUp(1);
    const [entry] = entries;
    if (entry === undefined) throw new Error("nothing leased");
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
    const before = timers();
    const handle = keeper.hold(entry);
    expect(timers()).toBe(before + 1);
    await keeper.release(handle);
    expect(timers()).toBe(before);
    await keeper.release(keeper.hold(entry));
    expect(timers()).toBe(before);
    keeper.abandon();
  });

  test("a lease lost to another holder aborts its handler's signal and is no longer extended", async () => {
    const { source, entries, keeper, degraded } = await setUp(2);
    const [lost, kept] = entries;
    if (lost === undefined || kept === undefined) throw new Error("nothing leased");
    const lostLease = keeper.hold(lost);
    const keptLease = keeper.hold(kept);
    // The reaper gave the entry to someone else: the token no longer matches.
    source.leases.set(lost.runId, { ...lost, leaseToken: -1 });

    await advance(source, INTERVAL_MS);
    expect(lostLease.signal.aborted).toBe(true);
    expect(keptLease.signal.aborted).toBe(false);
    expect(degraded).toEqual(["lease_lost"]);
    expect(keeper.size).toBe(1);
    await advance(source, INTERVAL_MS);
    expect(source.calls.extendLease).toBe(3);
  });

  test("a failed extension is reported and tried again at the next interval", async () => {
    const { source, entries, keeper, degraded } = await setUp(1);
    const [entry] = entries;
    if (entry === undefined) throw new Error("nothing leased");
    source.inject("extendLease", new Error("connection reset"));
    const lease = keeper.hold(entry);
    await advance(source, INTERVAL_MS);
    expect(degraded).toEqual(["lease_extend_failed"]);
    expect(lease.signal.aborted).toBe(false);
    await advance(source, INTERVAL_MS);
    expect(source.calls.extendLease).toBe(2);
    expect((await keeper.release(lease)).leaseDeadline).toBe(source.now + LEASE_MS);
  });

  test("release waits for an extension on the wire and answers the entry it extended", async () => {
    const { source, entries, keeper } = await setUp(1);
    const [entry] = entries;
    if (entry === undefined) throw new Error("nothing leased");
    let answer = () => {};
    const extendLease = source.extendLease.bind(source);
    source.extendLease = async (leased, leaseMs) => {
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      return extendLease(leased, leaseMs);
    };
    const lease = keeper.hold(entry);
    await advance(source, INTERVAL_MS);
    let released: FakeEntry | undefined;
    const releasing = Promise.resolve(keeper.release(lease)).then((value) => {
      released = value;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toBeUndefined();
    answer();
    await releasing;
    expect(released?.leaseDeadline).toBe(source.now + LEASE_MS);
  });

  test("abandon stops every extension and aborts every handler; holds made afterwards start aborted", async () => {
    const { source, entries, keeper } = await setUp(2);
    const [first, second] = entries;
    if (first === undefined || second === undefined) throw new Error("nothing leased");
    const lease = keeper.hold(first);
    keeper.abandon();
    expect(lease.signal.aborted).toBe(true);
    const late = keeper.hold(second);
    expect(late.signal.aborted).toBe(true);
    await advance(source, 3 * INTERVAL_MS);
    expect(source.calls.extendLease).toBe(0);

    keeper.resume();
    const again = keeper.hold(second);
    expect(again.signal.aborted).toBe(false);
    await advance(source, INTERVAL_MS);
    expect(source.calls.extendLease).toBe(1);
  });
});
