import { describe, expect, test } from "vitest";
import { DrainerError } from "./drainer-error.js";
import { type DrainGrant, FairScheduler } from "./fair-scheduler.js";

/** Serves `slots` entries from backlogs keyed `org/env` (Infinity = endless); returns entries per org and env. */
function drain(
  scheduler: FairScheduler,
  backlog: Map<string, number>,
  slots: number,
  maxCount = 4,
): { perOrg: Map<string, number>; perEnv: Map<string, number>; grants: DrainGrant[] } {
  const perOrg = new Map<string, number>();
  const perEnv = new Map<string, number>();
  const grants: DrainGrant[] = [];
  let served = 0;
  while (served < slots) {
    if (scheduler.needsRefresh) scheduler.update(activeOf(backlog));
    const grant = scheduler.next(Math.min(maxCount, slots - served));
    if (grant === undefined) break;
    grants.push(grant);
    const key = `${grant.orgId}/${grant.envId}`;
    const available = backlog.get(key) ?? 0;
    const taken = Math.min(available, grant.count);
    backlog.set(key, available - taken);
    if (available - taken === 0) backlog.delete(key);
    scheduler.complete(grant, taken);
    served += taken;
    perOrg.set(grant.orgId, (perOrg.get(grant.orgId) ?? 0) + taken);
    perEnv.set(key, (perEnv.get(key) ?? 0) + taken);
  }
  return { perOrg, perEnv, grants };
}

function activeOf(backlog: Map<string, number>): Map<string, string[]> {
  const active = new Map<string, string[]>();
  for (const key of backlog.keys()) {
    const [org, env] = key.split("/") as [string, string];
    active.set(org, [...(active.get(org) ?? []), env]);
  }
  return active;
}

describe("FairScheduler", () => {
  test("an org with fifty envs gets the same share as an org with one", () => {
    const backlog = new Map<string, number>([["light/env-0", Infinity]]);
    for (let env = 0; env < 50; env += 1) backlog.set(`heavy/env-${env}`, Infinity);
    const { perOrg, perEnv } = drain(new FairScheduler({ quantum: 5 }), backlog, 10_000);
    expect(perOrg.get("light")).toBe(5_000);
    expect(perOrg.get("heavy")).toBe(5_000);
    // Inside the heavy org its envs share its half evenly.
    expect(perEnv.get("heavy/env-0")).toBe(100);
    expect(perEnv.get("heavy/env-49")).toBe(100);
  });

  test("an idle org's share goes to the busy orgs", () => {
    const backlog = new Map<string, number>([
      ["a/env", Infinity],
      ["b/env", 30],
      ["c/env", Infinity],
    ]);
    const { perOrg } = drain(new FairScheduler({ quantum: 10 }), backlog, 1_030);
    expect(perOrg.get("b")).toBe(30);
    expect(perOrg.get("a")).toBe(500);
    expect(perOrg.get("c")).toBe(500);
  });

  test("per-org weights scale shares while both orgs are backlogged", () => {
    const backlog = new Map<string, number>([
      ["gold/env", Infinity],
      ["plain/env", Infinity],
      ["slow/env", Infinity],
    ]);
    const scheduler = new FairScheduler({ quantum: 4, orgWeights: { gold: 2, slow: 0.25 } });
    const { perOrg } = drain(scheduler, backlog, 3_250);
    expect(perOrg.get("gold")).toBe(2_000);
    expect(perOrg.get("plain")).toBe(1_000);
    expect(perOrg.get("slow")).toBe(250);
  });

  test("a newly active org is served as soon as the busy org's turn in progress ends", () => {
    const scheduler = new FairScheduler({ quantum: 10 });
    const backlog = new Map<string, number>([["heavy/env", Infinity]]);
    drain(scheduler, backlog, 95);
    backlog.set("light/env", 1);
    const { grants } = drain(scheduler, backlog, 40);
    let before = 0;
    for (const grant of grants) {
      if (grant.orgId === "light") break;
      before += grant.count;
    }
    expect(before).toBeLessThanOrEqual(10);
    expect(grants.some((grant) => grant.orgId === "light")).toBe(true);
  });

  test("grants never exceed the free slots asked for, and a round's end asks for a refresh", () => {
    const scheduler = new FairScheduler({ quantum: 10 });
    expect(scheduler.needsRefresh).toBe(true);
    expect(scheduler.next(5)).toBeUndefined();
    scheduler.update(new Map([["org", ["env"]]]));
    expect(scheduler.needsRefresh).toBe(false);
    const first = scheduler.next(3);
    expect(first).toEqual({ orgId: "org", envId: "env", count: 3 });
    if (first === undefined) return;
    scheduler.complete(first, 3);
    const second = scheduler.next(100);
    expect(second?.count).toBe(7);
    if (second === undefined) return;
    scheduler.complete(second, 7);
    expect(scheduler.needsRefresh).toBe(true);
  });

  test("an update serves new orgs next, keeps the current org's place and drops orgs no longer active", () => {
    const scheduler = new FairScheduler({ quantum: 1 });
    scheduler.update(
      new Map([
        ["a", ["e"]],
        ["b", ["e"]],
        ["c", ["e"]],
      ]),
    );
    const grant = scheduler.next(1);
    if (grant === undefined) throw new Error("expected a grant");
    scheduler.complete(grant, 1);
    expect(scheduler.activeOrgs()).toEqual(["b", "c", "a"]);
    scheduler.update(
      new Map([
        ["c", ["e"]],
        ["a", ["e"]],
        ["d", ["e"]],
      ]),
    );
    expect(scheduler.activeOrgs()).toEqual(["d", "c", "a"]);
  });

  test("invalid options fail early naming the option", () => {
    expect(() => new FairScheduler({ quantum: 0 })).toThrow(/quantum/);
    expect(() => new FairScheduler({ orgWeights: { x: -1 } })).toThrow(/orgWeights\[x\]/);
    try {
      new FairScheduler({ quantum: 1.5 });
    } catch (error) {
      expect(DrainerError.isInstance(error) && error.code).toBe("INVALID_OPTIONS");
    }
  });
  test("with random backlogs, weights and batch sizes, grants stay within bounds and backlogged orgs share evenly", () => {
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let run = 0; run < 50; run += 1) {
      const scheduler = new FairScheduler({ quantum: 1 + Math.floor(random() * 20) });
      const backlog = new Map<string, number>();
      const orgs = 2 + Math.floor(random() * 6);
      for (let org = 0; org < orgs; org += 1) {
        const envs = 1 + Math.floor(random() * 30);
        for (let env = 0; env < envs; env += 1) backlog.set(`org${org}/env${env}`, Infinity);
      }
      const maxCount = 1 + Math.floor(random() * 50);
      const { perOrg, grants } = drain(scheduler, backlog, 20_000, maxCount);
      for (const grant of grants) {
        expect(grant.count).toBeGreaterThanOrEqual(1);
        expect(grant.count).toBeLessThanOrEqual(maxCount);
      }
      const shares = [...perOrg.values()];
      // Every org is backlogged the whole time: shares differ by at most one turn's worth.
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(20 + maxCount);
      expect(shares.length).toBe(orgs);
    }
  });
});
