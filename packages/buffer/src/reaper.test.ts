import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };
const MAX_ATTEMPTS = 3;

function input(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, ...env, taskId: "task", payload: { n: runId }, options: {}, ...overrides };
}

describe.each(redisTopologies)("the lease reaper's attempt bound on $name", ({ test }) => {
  test("a lease that expires maxAttempts times ends FAILED (attempts_exhausted), not queued again", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: MAX_ATTEMPTS } });
    await buffer.accept(input("poison", { options: { idempotencyKey: "key" } }));
    await buffer.accept(input("healthy"));
    expect(await buffer.addTags({ ...env, runId: "poison", tags: ["tagged-while-buffered"] })).toMatchObject({
      outcome: "updated",
    });
    const results = [];
    for (let delivery = 1; delivery <= MAX_ATTEMPTS; delivery++) {
      const { entries } = await buffer.lease({ ...env, count: 1, leaseMs: 20 });
      expect(entries.map((entry) => [entry.runId, entry.attempts])).toEqual([["poison", delivery - 1]]);
      // The consumer crashes every time: the lease is never acked, and the reaper runs once it has expired.
      let result = await buffer.reapExpiredLeases();
      await vi.waitFor(
        async () => {
          if (result.reaped + result.failed === 0) result = await buffer.reapExpiredLeases();
          expect(result.reaped + result.failed).toBe(1);
        },
        { timeout: 5_000, interval: 20 },
      );
      results.push(result);
    }
    expect(results.slice(0, -1)).toEqual([
      { reaped: 1, failed: 0, failedEntries: [], unavailableShards: [] },
      { reaped: 1, failed: 0, failedEntries: [], unavailableShards: [] },
    ]);
    expect(results.at(-1)).toEqual({
      reaped: 0,
      failed: 1,
      failedEntries: [{ ...env, runId: "poison", attempts: MAX_ATTEMPTS, error: expect.any(String) }],
      unavailableShards: [],
    });
    expect(await buffer.getEntry({ ...env, runId: "poison" })).toBeUndefined();
    expect(await buffer.getFailed({ ...env, runId: "poison" })).toMatchObject({
      kind: "attempts_exhausted",
      attempts: MAX_ATTEMPTS,
      snapshot: { payload: { n: "poison" } },
      // What callers did while it was buffered stays with the FAILED record.
      mutations: { tags: ["tagged-while-buffered"], metadataVersion: 0, idempotencyReset: false },
    });
    expect(await buffer.listEntries(env)).toMatchObject({ entries: [{ runId: "healthy" }] });
    expect(await buffer.depth(env)).toBe(1);
    expect(await buffer.stats()).toMatchObject({ depth: 1, leasesInFlight: 0 });
    // Its idempotency key is released, as fail releases it.
    expect(await redis.get(buffer.keys.idempotency("org", "env", "task", "key"))).toBeNull();
    expect(await buffer.reapExpiredLeases()).toEqual({
      reaped: 0,
      failed: 0,
      failedEntries: [],
      unavailableShards: [],
    });
  });

  test("an exhausted lease that its holder extends or acks before the reaper moves it is left alone", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 1 } });
    await buffer.accept(input("slow"));
    const [entry] = (await buffer.lease({ ...env, count: 1, leaseMs: 60_000 })).entries;
    if (!entry) throw new Error("nothing leased");
    // Not expired: the bound is checked only once the deadline has passed.
    expect(await buffer.reapExpiredLeases()).toEqual({
      reaped: 0,
      failed: 0,
      failedEntries: [],
      unavailableShards: [],
    });
    expect(await buffer.ack(entry)).toEqual({ outcome: "acked" });
    expect(await buffer.getFailed({ ...env, runId: "slow" })).toBeUndefined();
  });
});
