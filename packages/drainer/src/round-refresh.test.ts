import { describe, expect, test } from "vitest";
import { FairScheduler } from "./fair-scheduler.js";
import { MIN_BUSY_REFRESH_INTERVAL_MS, RoundRefresh, readActiveSet } from "./round-refresh.js";
import { FakeDrainSource } from "./test-support/fake-drain-source.js";

function setUp() {
  const source = new FakeDrainSource();
  source.add("org-a", "env-1", 5);
  source.add("org-bb", "env-1", 5);
  source.add("org-bb", "env-2", 5);
  const scheduler = new FairScheduler({ quantum: 2 });
  const clock = { now: 1_000 };
  return { source, scheduler, clock, refresh: new RoundRefresh(source, scheduler, () => clock.now) };
}

/** Serves one whole round (org-a, then org-bb) so the scheduler asks for a read. */
function endRound(scheduler: FairScheduler): void {
  scheduler.next(10);
  scheduler.next(10);
  expect(scheduler.needsRefresh).toBe(true);
}

describe("RoundRefresh", () => {
  test("a read is due at first, then only at a round's end once `concurrency` entries were leased", async () => {
    const { scheduler, clock, refresh } = setUp();
    expect(refresh.due(4)).toBe(true);
    expect(refresh.mustWait).toBe(true);
    await refresh.now();
    expect(refresh.mustWait).toBe(false);
    expect(scheduler.activeOrgs().sort()).toEqual(["org-a", "org-bb"]);
    expect(refresh.due(4)).toBe(false);
    clock.now += MIN_BUSY_REFRESH_INTERVAL_MS;
    // The round ends...
    endRound(scheduler);
    // ...but fewer than `concurrency` entries were leased since the last read.
    refresh.leased(3);
    expect(refresh.due(4)).toBe(false);
    refresh.leased(1);
    expect(refresh.due(4)).toBe(true);
    expect(refresh.idle).toBe(false);
  });

  test("while orgs are being served, reads are at least the busy interval apart; with none left, at once", async () => {
    const { scheduler, clock, refresh } = setUp();
    await refresh.now();
    endRound(scheduler);
    refresh.leased(100);
    // A fast drain ends rounds faster than the interval: the read waits for it.
    clock.now += MIN_BUSY_REFRESH_INTERVAL_MS - 1;
    expect(refresh.due(4)).toBe(false);
    clock.now += 1;
    expect(refresh.due(4)).toBe(true);
    await refresh.now();
    // A request is never held back by the interval...
    refresh.request();
    expect(refresh.due(4)).toBe(true);
    await refresh.now();
    // ...nor is a scheduler with nothing left to serve.
    scheduler.update(new Map());
    expect(scheduler.isEmpty).toBe(true);
    expect(refresh.due(4)).toBe(true);
  });

  test("a round that leased nothing is idle; a request forces the next read to be waited for", async () => {
    const { refresh } = setUp();
    await refresh.now();
    expect(refresh.idle).toBe(true);
    refresh.request();
    expect(refresh.mustWait).toBe(true);
    expect(refresh.due(100)).toBe(true);
  });

  test("a background read runs once at a time, and its failure is handed over and asks for another read", async () => {
    const { source, refresh } = setUp();
    await refresh.now();
    source.inject("enumerate", new Error("connection reset"));
    const errors: unknown[] = [];
    let done = 0;
    refresh.inBackground(
      (error) => errors.push(error),
      () => {
        done += 1;
      },
    );
    const first = refresh.pending;
    refresh.inBackground(
      () => {},
      () => {},
    );
    expect(refresh.pending).toBe(first);
    await first;
    expect(errors).toHaveLength(1);
    expect(done).toBe(1);
    expect(refresh.pending).toBeUndefined();
    expect(refresh.mustWait).toBe(true);
  });

  test("readActiveSet lists orgs and envs through activeOrgs/activeEnvs, or through activeSet when the source has it", async () => {
    const { source } = setUp();
    const listed = await readActiveSet(source);
    expect([...listed.keys()].sort()).toEqual(["org-a", "org-bb"]);
    expect([...(listed.get("org-bb") ?? [])].sort()).toEqual(["env-1", "env-2"]);
    const withActiveSet = Object.assign(source, {
      activeSet: async () => new Map([["org-z", ["env-9"]]]),
    });
    expect([...(await readActiveSet(withActiveSet))]).toEqual([["org-z", ["env-9"]]]);
  });
});
