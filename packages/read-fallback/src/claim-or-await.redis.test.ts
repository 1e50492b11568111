import { MollifierBuffer } from "@mollifier/buffer";
import { noopRecorder } from "@mollifier/telemetry";
import { type RedisClient, redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { InMemoryRunStore } from "./fakes.test-support.js";
import { createReadFallback, type ReadFallback } from "./read-fallback.js";
import type { ReadFallbackOptions } from "./read-fallback-options.js";

const key = { orgId: "org_1", envId: "env_1", taskId: "send-email", idempotencyKey: "order-42" };
// Short claim TTLs so an abandoned claim expires within the test; the buffer clamps to the same bounds.
const ttl = { minClaimTtlMs: 100, maxClaimTtlMs: 300 };

function setUp(redis: RedisClient, options: Partial<ReadFallbackOptions> = {}) {
  const buffer = new MollifierBuffer({ redis, shardCount: 4, ...ttl });
  const readFallback = createReadFallback({ buffer, runStore: new InMemoryRunStore(), ...ttl, ...options });
  return { buffer, readFallback };
}

/**
 * One trigger with an idempotency key, as the app runs it: claim; if resolved answer that run;
 * if claimed, look the key up (a run may already hold it), else accept into the buffer, then
 * publish. Counts the accepts it makes.
 */
async function trigger(
  readFallback: ReadFallback,
  buffer: MollifierBuffer,
  candidateRunId: string,
  accepts: { count: number },
): Promise<string> {
  const claim = await readFallback.claimOrAwait(key);
  if (claim.outcome === "resolved") return claim.runId;
  if (claim.outcome !== "claimed") throw new Error(`unexpected claim outcome ${claim.outcome}`);
  const existing = await readFallback.findIdempotentRun(key);
  let runId: string;
  if (existing.outcome === "found") {
    runId = existing.run.id;
  } else {
    accepts.count += 1;
    const accepted = await buffer.accept({
      runId: candidateRunId,
      orgId: key.orgId,
      envId: key.envId,
      taskId: key.taskId,
      payload: { order: 42 },
      options: { idempotencyKey: key.idempotencyKey },
    });
    if (accepted.outcome !== "accepted") throw new Error(`unexpected accept outcome ${accepted.outcome}`);
    runId = candidateRunId;
  }
  const published = await readFallback.publish({ ...key, token: claim.token, runId });
  if (published.outcome !== "published") throw new Error(`unexpected publish outcome ${published.outcome}`);
  return runId;
}

describe.each(redisTopologies)("the claim protocol on $name", ({ test }) => {
  test("50 concurrent triggers with one idempotency key resolve to exactly one run id, accepted once", async ({
    redis,
    createRedisClient,
  }) => {
    // Five clients stand for five webapp processes, ten concurrent requests each.
    const processes = Array.from({ length: 5 }, () => setUp(createRedisClient()));
    const accepts = { count: 0 };
    const runIds = await Promise.all(
      Array.from({ length: 50 }, (_, index) => {
        const process = processes[index % processes.length];
        if (process === undefined) throw new Error("no process");
        return trigger(process.readFallback, process.buffer, `run_${index}`, accepts);
      }),
    );
    expect(new Set(runIds).size).toBe(1);
    expect(accepts.count).toBe(1);
    const { buffer } = setUp(redis);
    expect(await buffer.depth({ orgId: key.orgId, envId: key.envId })).toBe(1);
  });

  test("an owner that dies without publishing lets the next claimant win once its claim expires", async ({
    redis,
  }) => {
    const outcomes: string[] = [];
    const { buffer, readFallback } = setUp(redis, {
      recorder: { ...noopRecorder, claim: (event) => outcomes.push(event.outcome) },
    });
    const dead = await readFallback.claimOrAwait(key);
    expect(dead).toMatchObject({ outcome: "claimed" });
    // The next request waits (bounded well past the TTL) and takes the claim over.
    const next = await readFallback.claimOrAwait(key);
    expect(next).toMatchObject({ outcome: "claimed" });
    if (dead.outcome !== "claimed" || next.outcome !== "claimed") throw new Error("unreachable");
    expect(next.token).not.toBe(dead.token);
    // It had to wait for the dead owner's claim to expire first.
    expect(outcomes).toEqual(["claimed", "pending", "claimed"]);
    expect(await readFallback.publish({ ...key, token: next.token, runId: "run_next" })).toEqual({
      outcome: "published",
    });
    expect(await readFallback.claimOrAwait(key)).toEqual({ outcome: "resolved", runId: "run_next" });
    expect(await buffer.readClaim(key)).toEqual({ outcome: "resolved", runId: "run_next" });
  });

  test("a late release or publish by an expired owner never erases or overwrites the newer owner's claim", async ({
    redis,
  }) => {
    const { buffer, readFallback } = setUp(redis);
    const { readFallback: impatient } = setUp(redis, { claimPolling: { maxWaitMs: 0 } });
    const late = await readFallback.claimOrAwait(key);
    if (late.outcome !== "claimed") throw new Error(`expected claimed, got ${late.outcome}`);
    await vi.waitFor(async () => expect(await buffer.readClaim(key)).toEqual({ outcome: "none" }), {
      timeout: 5_000,
      interval: 20,
    });
    const newer = await readFallback.claimOrAwait(key);
    if (newer.outcome !== "claimed") throw new Error(`expected claimed, got ${newer.outcome}`);

    expect(await readFallback.release({ ...key, token: late.token })).toEqual({ outcome: "not_owner" });
    expect(await readFallback.publish({ ...key, token: late.token, runId: "run_late" })).toEqual({
      outcome: "not_owner",
    });
    // The newer owner still holds the key: another request has to wait.
    expect(await impatient.claimOrAwait(key)).toMatchObject({ outcome: "timed_out" });

    expect(await readFallback.publish({ ...key, token: newer.token, runId: "run_newer" })).toEqual({
      outcome: "published",
    });
    expect(await impatient.claimOrAwait(key)).toEqual({ outcome: "resolved", runId: "run_newer" });
  });

  test("releasing a claim lets the next request claim at once", async ({ redis }) => {
    const { readFallback } = setUp(redis);
    const { readFallback: impatient } = setUp(redis, { claimPolling: { maxWaitMs: 0 } });
    const first = await readFallback.claimOrAwait(key);
    if (first.outcome !== "claimed") throw new Error(`expected claimed, got ${first.outcome}`);
    expect(await readFallback.release({ ...key, token: first.token })).toEqual({ outcome: "released" });
    expect(await impatient.claimOrAwait(key)).toMatchObject({ outcome: "claimed" });
  });

  test("resetting the idempotency key drops the resolved claim, so the next trigger creates a new run", async ({
    redis,
  }) => {
    const { buffer, readFallback } = setUp(redis);
    const accepts = { count: 0 };
    const first = await trigger(readFallback, buffer, "run_first", accepts);
    expect(await readFallback.resetIdempotencyKey(key)).toEqual({ outcome: "reset", runIds: [first] });
    const second = await trigger(readFallback, buffer, "run_second", accepts);
    expect(second).toBe("run_second");
    expect(accepts.count).toBe(2);
  });
});
