import { describe, expect, test } from "vitest";
import { jainIndex, TenantActivity } from "./tenant-activity";

describe("jainIndex", () => {
  test("is 1 for equal shares, 1/n when one takes everything, undefined with nothing to share", () => {
    expect(jainIndex([5, 5, 5, 5])).toBe(1);
    expect(jainIndex([10, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([3, 1])).toBeCloseTo(16 / 20);
    expect(jainIndex([])).toBeUndefined();
    expect(jainIndex([0, 0])).toBeUndefined();
  });
});

describe("TenantActivity", () => {
  test("counts drains per env, degraded events by reason and degraded decisions over the last minute only", () => {
    let now = 1_000_000;
    const activity = new TenantActivity({ clock: () => now });
    const run = (orgId: string, envId: string) => ({
      orgId,
      envId,
      runId: "r",
      timeInBufferMs: 1,
      handlerDurationMs: 1,
    });
    activity.drained(run("org_a", "env_1"));
    activity.degraded({ component: "gate", reason: "timeout" });
    activity.decision({ action: "pass_through", reason: "degraded" });
    now += 30_000;
    activity.drained(run("org_a", "env_1"));
    activity.drained(run("org_b", "env_2"));
    activity.degraded({ component: "gate", reason: "timeout" });
    activity.degraded({ component: "drainer", reason: "database_unavailable" });
    activity.decision({ action: "mollify", reason: "per_env_rate" });
    expect(activity.drainsPerEnv()).toEqual([
      { orgId: "org_a", envId: "env_1", drained: 2 },
      { orgId: "org_b", envId: "env_2", drained: 1 },
    ]);
    expect(activity.degradedByReason()).toEqual([
      { component: "gate", reason: "timeout", count: 2 },
      { component: "drainer", reason: "database_unavailable", count: 1 },
    ]);
    expect(activity.decisions()).toEqual({ total: 2, degraded: 1 });
    // 45 s later the first second is out of the window.
    now += 45_000;
    expect(activity.drainsPerEnv()).toEqual([
      { orgId: "org_a", envId: "env_1", drained: 1 },
      { orgId: "org_b", envId: "env_2", drained: 1 },
    ]);
    expect(activity.decisions()).toEqual({ total: 1, degraded: 0 });
  });
});
