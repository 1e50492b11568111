import { describe, expect, test } from "vitest";
import { runScenario, type ScenarioSize } from "../src/run-scenario.js";
import { scenario, VICTIM_ORG } from "../src/scenarios.js";

// The small configuration of `pnpm chaos`: the same processes and faults, a shorter burst and a
// 10 s database outage (the 60 s one runs in `pnpm chaos`).
const SMALL: ScenarioSize = {
  ratePerSecond: 150,
  loadMs: 8_000,
  faultAfterMs: 2_000,
  outageMs: 2_000,
  drainTimeoutMs: 90_000,
};

describe.each([
  ["drainer-sigkill-twice", SMALL],
  ["app-sigkill", SMALL],
  ["redis-restart", SMALL],
  ["db-connections-terminated", { ...SMALL, outageMs: 0 }],
  ["db-outage", { ...SMALL, loadMs: 16_000, outageMs: 10_000 }],
  ["cluster-master-killed", { ...SMALL, loadMs: 14_000 }],
] as const)("%s", (name, size) => {
  test("loses nothing, duplicates nothing, fails no acknowledged run, and no process exits", async () => {
    const result = await runScenario(scenario(name), size);
    expect(result.acknowledged).toBeGreaterThan(0);
    expect({
      lost: result.lost,
      duplicated: result.duplicated,
      failed: result.failed,
      crashes: result.crashes,
      drained: result.drained,
      examples: result.examples,
    }).toEqual({ lost: 0, duplicated: 0, failed: 0, crashes: [], drained: true, examples: [] });
    if (name === "cluster-master-killed") {
      // The orgs whose shards live on the healthy masters keep draining while the replica takes over.
      const healthy = Object.entries(result.drainedDuringFault).filter(([org]) => org !== VICTIM_ORG);
      expect(healthy.length).toBeGreaterThan(0);
      for (const [org, drained] of healthy)
        expect({ org, drained: drained > 0 }).toEqual({ org, drained: true });
    }
  });
});
