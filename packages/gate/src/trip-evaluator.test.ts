import { BufferKeys } from "@mollifier/buffer";
import type { RedisClient } from "@mollifier/core";
import { redisTest, redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { evaluateGate } from "./evaluate-gate.js";
import { parseGateConfig } from "./gate-config.js";
import { GateError } from "./gate-error.js";
import type { TripEvaluation } from "./trip-evaluation.js";
import { RedisTripEvaluator, type RedisTripEvaluatorOptions } from "./trip-evaluator.js";

const keys = new BufferKeys({ prefix: "gate-test", shardCount: 16 });
const ORG = "org-a";
const ENV = "env-a";

/** An evaluator on a connected client (the evaluator refuses to queue while connecting). */
async function evaluatorFor(
  redis: RedisClient,
  options: Omit<RedisTripEvaluatorOptions, "redis" | "keys"> = {},
) {
  await redis.ping();
  return new RedisTripEvaluator({ redis, keys, ...options });
}

/** Sets the env's depth counter the way the buffer does. */
async function setBacklog(redis: RedisClient, orgId: string, envId: string, depth: number) {
  const env = keys.env(orgId, envId);
  await redis.hset(env.depth, env.envDepthField, depth);
}

/** The largest number of timestamps inside any half-open window `[t, t + windowMs)`. */
function maxInAnyWindow(sortedTimes: readonly number[], windowMs: number): number {
  let most = 0;
  let start = 0;
  for (let end = 0; end < sortedTimes.length; end++) {
    const last = sortedTimes[end] ?? 0;
    while ((sortedTimes[start] ?? 0) <= last - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** A small deterministic PRNG (mulberry32) so the random schedule is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Fires `count` triggers at the same instant; returns the evaluations. */
async function burst(evaluator: RedisTripEvaluator, now: number, count: number, envId = ENV, orgId = ORG) {
  return Promise.all(Array.from({ length: count }, () => evaluator.evaluate({ orgId, envId, now })));
}

describe.each(redisTopologies)("the trip evaluator on $name", ({ test }) => {
  const WINDOW = 1_000;
  const THRESHOLD = 100;

  test("bursts right before and right after window edges never admit more than the threshold in any window", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: THRESHOLD,
      tripWindowMs: WINDOW,
      tripHoldMs: 0,
    });
    const admitted: number[] = [];
    const edge = 1_700_000_000_000; // a multiple of the window and of every sub-bucket
    // Each pair straddles an edge (a window boundary, a sub-bucket boundary, or
    // one window after the previous burst): a fixed window would admit 2x here.
    const schedule: Array<[number, number]> = [
      [edge - 1, 150],
      [edge, 150],
      [edge + 1, 150],
      [edge + WINDOW - 1, 150],
      [edge + WINDOW, 150],
      [edge + WINDOW + 49, 150],
      [edge + WINDOW + 50, 150],
      [edge + 2 * WINDOW + 25, 60],
      [edge + 3 * WINDOW - 1, 60],
      [edge + 3 * WINDOW + 1, 60],
      [edge + 4 * WINDOW + 100, 150],
      [edge + 5 * WINDOW + 99, 150],
      [edge + 5 * WINDOW + 100, 150],
      [edge + 5 * WINDOW + 101, 150],
    ];
    for (const [now, count] of schedule) {
      for (const result of await burst(evaluator, now, count)) {
        if (!result.tripped) admitted.push(now);
      }
    }
    // Meaningful only if the gate admitted full windows' worth along the way
    // (a sustained overload diverts everything, so most bursts are refused).
    expect(admitted.length).toBeGreaterThanOrEqual(2 * THRESHOLD);
    expect(maxInAnyWindow(admitted, WINDOW)).toBe(THRESHOLD);
    expect(maxInAnyWindow(admitted, WINDOW)).toBeLessThanOrEqual(THRESHOLD * 1.05);
    expect(maxInAnyWindow(admitted, WINDOW)).toBeLessThanOrEqual(THRESHOLD);
  });

  test("randomly timed bursts never admit more than the threshold in any window, whatever the sub-bucket count", async ({
    redis,
  }) => {
    // 7 does not divide the window: sub-bucket edges fall between milliseconds.
    for (const tripBuckets of [1, 7, 20]) {
      const evaluator = await evaluatorFor(redis, {
        tripThreshold: THRESHOLD,
        tripWindowMs: WINDOW,
        tripHoldMs: 0,
        tripBuckets,
      });
      const random = seededRandom(tripBuckets);
      const admitted: number[] = [];
      let now = 1_700_000_000_333;
      const envId = `env-buckets-${tripBuckets}`;
      for (let step = 0; step < 150; step++) {
        // Around the threshold on average (~105/s), in uneven bursts.
        now += Math.floor(random() * 180);
        const count = 1 + Math.floor(random() * 18);
        for (const result of await burst(evaluator, now, count, envId)) {
          if (!result.tripped) admitted.push(now);
        }
      }
      // One sub-bucket is the most conservative (it counts up to two windows), still admitting a lot.
      expect(admitted.length, `tripBuckets ${tripBuckets}`).toBeGreaterThan(THRESHOLD);
      expect(maxInAnyWindow(admitted, WINDOW), `tripBuckets ${tripBuckets}`).toBeLessThanOrEqual(
        THRESHOLD * 1.05,
      );
      expect(maxInAnyWindow(admitted, WINDOW), `tripBuckets ${tripBuckets}`).toBeLessThanOrEqual(THRESHOLD);
    }
  });

  test("a steady rate at 90% of the threshold never trips", async ({ redis }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: THRESHOLD,
      tripWindowMs: WINDOW,
      tripHoldMs: 5_000,
    });
    const interval = WINDOW / (THRESHOLD * 0.9);
    const start = 1_700_000_000_017;
    const outcomes = new Set<string>();
    let highest = 0;
    for (let index = 0; index < 900; index++) {
      const result = await evaluator.evaluate({
        orgId: ORG,
        envId: ENV,
        now: Math.floor(start + index * interval),
      });
      outcomes.add(result.outcome);
      highest = Math.max(highest, result.count);
    }
    expect([...outcomes]).toEqual(["under_budget"]);
    // The count tracks the real rate: at most one sub-bucket (5%) above 90.
    expect(highest).toBeGreaterThanOrEqual(90);
    expect(highest).toBeLessThanOrEqual(95);
  });

  test("a tripped env holds for tripHoldMs after its last over-threshold trigger, then releases; calls during the hold do not re-arm it", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: 10,
      tripWindowMs: WINDOW,
      tripHoldMs: 3_000,
    });
    const t0 = 1_700_000_000_000;
    const first = await burst(evaluator, t0, 11);
    expect(first.filter((result) => result.tripped)).toHaveLength(1);
    expect(
      first
        .map((result) => result.count)
        .sort((a, b) => a - b)
        .at(-1),
    ).toBe(11);
    const seen: Array<[number, string, number, number]> = [];
    for (let offset = 1_100; offset <= 3_100; offset += 200) {
      const result = await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t0 + offset });
      seen.push([offset, result.outcome, result.count, result.holdRemainingMs]);
    }
    // The window has slid past the burst (the count covers the current
    // sub-bucket and the 20 before it, so it sees 6 calls 200 ms apart), the hold counts down
    // from the last over-threshold trigger at t0 and is not extended by these calls.
    expect(seen).toEqual([
      [1_100, "per_env_rate", 1, 1_900],
      [1_300, "per_env_rate", 2, 1_700],
      [1_500, "per_env_rate", 3, 1_500],
      [1_700, "per_env_rate", 4, 1_300],
      [1_900, "per_env_rate", 5, 1_100],
      [2_100, "per_env_rate", 6, 900],
      [2_300, "per_env_rate", 6, 700],
      [2_500, "per_env_rate", 6, 500],
      [2_700, "per_env_rate", 6, 300],
      [2_900, "per_env_rate", 6, 100],
      [3_100, "under_budget", 6, 0],
    ]);
  });

  test("over-threshold traffic re-arms the hold, so a sustained overload stays tripped until it ends", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: 10,
      tripWindowMs: WINDOW,
      tripHoldMs: 3_000,
    });
    const t0 = 1_700_000_000_000;
    await burst(evaluator, t0, 11);
    const again = await burst(evaluator, t0 + 2_500, 11);
    expect(again.every((result) => result.tripped)).toBe(true);
    expect(Math.max(...again.map((result) => result.holdRemainingMs))).toBe(3_000);
    expect((await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t0 + 5_499 })).outcome).toBe(
      "per_env_rate",
    );
    expect((await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t0 + 5_500 })).outcome).toBe(
      "under_budget",
    );
  });

  test("a caller whose clock runs far behind counts into the newest bucket and cannot stretch the hold by its skew", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: 2,
      tripWindowMs: WINDOW,
      tripHoldMs: 1_000,
    });
    const t = 1_700_000_000_000;
    const ahead = await burst(evaluator, t + 10_000, 3);
    expect(ahead.filter((result) => result.tripped)).toHaveLength(1);
    // Ten seconds behind: read as the newest bucket's start, inside the hold.
    expect(await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t })).toMatchObject({
      outcome: "per_env_rate",
      count: 4,
      holdRemainingMs: 1_000,
    });
    // Once the fleet's newest time is past the hold, the lagging caller is released too.
    await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t + 11_100 });
    expect(await evaluator.evaluate({ orgId: ORG, envId: ENV, now: t + 1 })).toMatchObject({
      outcome: "under_budget",
      holdRemainingMs: 0,
    });
  });

  test("an env with buffered entries stays diverted (backlogged) until its depth is back to zero", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, { tripThreshold: 10, tripWindowMs: WINDOW, tripHoldMs: 0 });
    const now = 1_700_000_000_000;
    await setBacklog(redis, ORG, ENV, 3);
    const backlogged = await evaluator.evaluate({ orgId: ORG, envId: ENV, now });
    expect(backlogged).toMatchObject({ outcome: "backlogged", tripped: true, backlog: 3, count: 1 });
    // Another env of the same org (same shard, same depth hash) is not affected.
    expect((await evaluator.evaluate({ orgId: ORG, envId: "env-b", now })).outcome).toBe("under_budget");
    // Over the threshold, the rate is the reason reported.
    const overRate = await burst(evaluator, now + 1, 11);
    expect(overRate.map((result) => result.outcome)).toContain("per_env_rate");
    await setBacklog(redis, ORG, ENV, 0);
    expect(await evaluator.evaluate({ orgId: ORG, envId: ENV, now: now + 5_000 })).toMatchObject({
      outcome: "under_budget",
      tripped: false,
      backlog: 0,
    });
  });

  test("the global budget bounds the fleet across orgs in other shards, with its own hold", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: 10,
      tripWindowMs: WINDOW,
      tripHoldMs: 2_000,
      globalThreshold: 15,
    });
    const orgB = ["org-b", "org-c", "org-d", "org-e"].find((org) => keys.shardOf(org) !== keys.shardOf(ORG));
    if (orgB === undefined) throw new Error("no org in another shard");
    const now = 1_700_000_000_000;
    const fromA = await burst(evaluator, now, 8, ENV, ORG);
    expect(fromA.every((result) => result.outcome === "under_budget")).toBe(true);
    const fromB: TripEvaluation[] = [];
    for (let index = 0; index < 8; index++) {
      fromB.push(await evaluator.evaluate({ orgId: orgB, envId: ENV, now }));
    }
    expect(fromB.map((result) => result.outcome)).toEqual([...Array(7).fill("under_budget"), "global_rate"]);
    expect(fromB.at(-1)).toMatchObject({
      count: 8,
      global: { count: 16, threshold: 15, holdRemainingMs: 2_000 },
    });
    // Env A's 11th trigger is diverted by its own budget and never reaches the global count.
    const overA = await burst(evaluator, now + 1, 3, ENV, ORG);
    expect(overA.map((result) => result.outcome).sort()).toEqual([
      "global_rate",
      "global_rate",
      "per_env_rate",
    ]);
    const probe = await evaluator.evaluate({ orgId: orgB, envId: "env-y", now: now + 2 });
    expect(probe).toMatchObject({ outcome: "global_rate", global: { count: 19 } });
    // Held for tripHoldMs after the last over-budget trigger (now + 2), once the fleet is back under budget.
    const held = await evaluator.evaluate({ orgId: orgB, envId: "env-z", now: now + 1_100 });
    expect(held).toMatchObject({
      outcome: "global_rate",
      count: 1,
      global: { count: 1, holdRemainingMs: 902 },
    });
    const released = await evaluator.evaluate({ orgId: orgB, envId: "env-z", now: now + 2_002 });
    expect(released).toMatchObject({
      outcome: "under_budget",
      tripped: false,
      global: { count: 2, holdRemainingMs: 0 },
    });
  });

  test("the window key expires once the window and the hold are over", async ({ redis }) => {
    const evaluator = await evaluatorFor(redis, {
      tripThreshold: 10,
      tripWindowMs: WINDOW,
      tripHoldMs: 3_000,
    });
    await evaluator.evaluate({ orgId: ORG, envId: ENV, now: 1_700_000_000_000 });
    const ttl = await redis.pttl(`${keys.env(ORG, ENV).gatePrefix}:window`);
    expect(ttl).toBeGreaterThan(3_000);
    expect(ttl).toBeLessThanOrEqual(WINDOW + 2 * (WINDOW / 20) + 3_000 + 1);
  });

  test("evaluateGate with the Redis evaluator mollifies an enrolled org and shadow-logs a non-enrolled one", async ({
    redis,
  }) => {
    const evaluator = await evaluatorFor(redis, { tripThreshold: 1, tripWindowMs: WINDOW, tripHoldMs: 0 });
    const config = { enabled: true, shadowMode: true, batchSupport: false, timeBudgetMs: 5_000 };
    const dependencies = (enrolled: boolean) => ({
      config,
      evaluator,
      resolveEnrollment: () => enrolled,
      clock: () => 1_700_000_000_000,
    });
    const inputs = { orgId: ORG, envId: ENV, taskId: "task" };
    expect(await evaluateGate(inputs, dependencies(true))).toMatchObject({
      action: "pass_through",
      reason: "under_budget",
    });
    expect(await evaluateGate(inputs, dependencies(true))).toMatchObject({
      action: "mollify",
      reason: "per_env_rate",
    });
    expect(await evaluateGate(inputs, dependencies(false))).toMatchObject({
      action: "shadow_log",
      reason: "per_env_rate",
    });
  });
});

describe("RedisTripEvaluator options", () => {
  redisTest("invalid options fail at construction with a message naming the option", ({ redis }) => {
    expect(() => new RedisTripEvaluator({ redis, tripBuckets: 0 })).toThrow(
      /^RedisTripEvaluatorOptions\.tripBuckets must be an integer/,
    );
    expect(() => new RedisTripEvaluator({ redis, tripThreshold: 2.5 })).toThrow(
      /^RedisTripEvaluatorOptions\.tripThreshold must be an integer/,
    );
    expect(() => new RedisTripEvaluator({ redis, tripHoldMs: -1 })).toThrow(
      /^RedisTripEvaluatorOptions\.tripHoldMs must be an integer/,
    );
    expect(() => new RedisTripEvaluator({ redis, globalThreshold: 0 })).toThrow(
      /^RedisTripEvaluatorOptions\.globalThreshold must be an integer/,
    );
    let thrown: unknown;
    try {
      new RedisTripEvaluator({ redis, tripWindowMs: 0 });
    } catch (error) {
      thrown = error;
    }
    expect(GateError.isInstance(thrown) && thrown.code).toBe("INVALID_OPTIONS");
  });

  redisTest("a parsed GateConfig spreads into the options", async ({ redis }) => {
    await redis.ping();
    const config = parseGateConfig({ tripThreshold: 2, tripHoldMs: 0 });
    const evaluator = new RedisTripEvaluator({ redis, keys, ...config });
    const results = await burst(evaluator, 1_700_000_000_000, 3);
    expect(results.map((result) => result.count).sort()).toEqual([1, 2, 3]);
    expect(results.filter((result) => result.tripped)).toHaveLength(1);
  });

  redisTest(
    "a client that is not connected is refused without sending, so nothing waits for a reconnect",
    async ({ createRedisClient }) => {
      const client = createRedisClient({ lazyConnect: true });
      await client.connect();
      client.disconnect();
      await vi.waitFor(() => expect(client.status).toBe("end"));
      const evaluator = new RedisTripEvaluator({ redis: client });
      await expect(evaluator.evaluate({ orgId: ORG, envId: ENV, now: 1 })).rejects.toMatchObject({
        code: "REDIS_NOT_READY",
      });
    },
  );

  redisTest(
    "a client still connecting is refused with a message that says to wait for ready",
    async ({ createRedisClient }) => {
      const client = createRedisClient();
      expect(client.status).toBe("connecting");
      const evaluator = new RedisTripEvaluator({ redis: client });
      await expect(evaluator.evaluate({ orgId: ORG, envId: ENV, now: 1 })).rejects.toMatchObject({
        code: "REDIS_NOT_READY",
        message: expect.stringContaining(
          'the Redis client is connecting, not ready: the gate answers pass_through/degraded until it is (await redis.connect() or its "ready" event',
        ),
      });
    },
  );
});
