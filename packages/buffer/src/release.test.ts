import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };

function input(runId: string): AcceptInput {
  return { runId, ...env, taskId: "task", payload: { n: runId }, options: {} };
}

describe.each(redisTopologies)("release on $name", ({ test }) => {
  test("a released lease puts the entry back at the head of its queue with the attempts it had", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 2 } });
    await buffer.accept(input("a"));
    await buffer.accept(input("b"));
    // Released more times than the attempt bound: no attempt is spent, so it is never failed.
    for (let round = 0; round < 3; round++) {
      const [entry] = (await buffer.lease({ ...env, count: 1 })).entries;
      expect(entry).toMatchObject({ runId: "a", attempts: 0 });
      if (!entry) throw new Error("nothing leased");
      expect(await buffer.release(entry)).toEqual({ outcome: "released" });
      expect(await buffer.release(entry)).toEqual({ outcome: "lease_lost" });
      expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({
        state: "queued",
        attempts: 0,
        position: 0,
      });
    }
    expect(await buffer.activeEnvs("org")).toEqual(["env"]);
    expect(await buffer.stats()).toMatchObject({ depth: 2, leasesInFlight: 0 });
  });

  test("a lease that expired and was leased again cannot be released by its old holder", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("a"));
    const [stale] = (await buffer.lease({ ...env, count: 1, leaseMs: 1 })).entries;
    if (!stale) throw new Error("nothing leased");
    await new Promise((resolve) => setTimeout(resolve, 10));
    await buffer.reapExpiredLeases();
    const [current] = (await buffer.lease({ ...env, count: 1 })).entries;
    expect(current).toMatchObject({ runId: "a", attempts: 1 });
    expect(await buffer.release(stale)).toEqual({ outcome: "lease_lost" });
    expect(await buffer.getEntry({ ...env, runId: "a" })).toMatchObject({ state: "leased" });
  });
});
