import { BufferKeys } from "@mollifier/buffer";
import { evenSlotRanges, keySlot, type RedisClient } from "@mollifier/core";
import { redisClusterTest, redisTopologies } from "@mollifier/testing";
import { describe, expect, test } from "vitest";
import { GlobalBudgetParts } from "./global-budget-parts.js";
import type { TripEvaluation } from "./trip-evaluation.js";
import { RedisTripEvaluator } from "./trip-evaluator.js";

const keys = new BufferKeys({ prefix: "global-test", shardCount: 16 });
const START = 1_700_000_000_000;

function partsOf(threshold: number, mostParts = 16, random = () => 0) {
  return new GlobalBudgetParts({ keys, threshold, mostParts, random });
}

describe("the global budget's parts", () => {
  test("a budget under 500 per window stays in one window, under the key it always had", () => {
    const parts = partsOf(499);
    expect(parts.parts).toEqual([{ keys: ["{global-test:global}:gate:window"], threshold: 499 }]);
    expect(parts.fleetCount(parts.next(), 17)).toBe(17);
  });

  test("a larger budget is spread over parts of at least 250, one per slot range, adding up to the budget", () => {
    const parts = partsOf(2_001);
    expect(parts.parts.map((part) => part.threshold)).toEqual([251, 250, 250, 250, 250, 250, 250, 250]);
    const ranges = evenSlotRanges(8);
    for (const [index, part] of parts.parts.entries()) {
      expect(part.keys[0]).toMatch(new RegExp(`^\\{global-test:global:${index}:\\d+\\}:gate:window$`));
      const slot = keySlot(part.keys[0]);
      expect(slot).toBeGreaterThanOrEqual(ranges[index]?.first ?? -1);
      expect(slot).toBeLessThanOrEqual(ranges[index]?.last ?? -1);
    }
    expect(partsOf(100_000).parts).toHaveLength(16);
    expect(partsOf(100_000, 4).parts).toHaveLength(4);
    // A part's count stands for the fleet's: scaled by the budget over its share.
    expect(parts.fleetCount(parts.parts[1] ?? parts.next(), 125)).toBe(1_001);
  });

  test("a process walks the parts in turn from where its random source says", () => {
    const parts = partsOf(1_000, 16, () => 0.6);
    const walked = Array.from({ length: 5 }, () => parts.parts.indexOf(parts.next()));
    expect(walked).toEqual([2, 3, 0, 1, 2]);
  });
});

/** Gate processes, each on its own connection, with the budget spread over 8 parts of 250. */
async function gateProcesses(createRedisClient: () => RedisClient, processes: number) {
  return Promise.all(
    Array.from({ length: processes }, async (_, index) => {
      const redis = createRedisClient();
      await redis.ping();
      return new RedisTripEvaluator({
        redis,
        keys,
        // No env's own budget is ever reached: only the global budget is measured.
        tripThreshold: 1_000_000_000,
        tripWindowMs: 1_000,
        tripHoldMs: 0,
        // A window over-counts by at most one sub-bucket: 1/51 here.
        tripBuckets: 50,
        globalThreshold: 2_000,
        random: () => index / processes,
      });
    }),
  );
}

/**
 * Triggers at `ratePerSecond`, evenly spaced in the callers' time (`now`, not
 * the wall clock), handed to the processes in turn, each from another org.
 */
async function offer(
  evaluators: readonly RedisTripEvaluator[],
  start: number,
  ratePerSecond: number,
  durationMs: number,
): Promise<Array<{ now: number; evaluation: TripEvaluation }>> {
  const results: Array<{ now: number; evaluation: TripEvaluation }> = [];
  const count = Math.floor((ratePerSecond * durationMs) / 1_000);
  for (let index = 0; index < count; index++) {
    const now = start + Math.floor((index * 1_000) / ratePerSecond);
    const evaluator = evaluators[index % evaluators.length];
    if (evaluator === undefined) throw new Error("no evaluator");
    results.push({
      now,
      evaluation: await evaluator.evaluate({ orgId: `org-${index % 97}`, envId: "env", now }),
    });
  }
  return results;
}

/** The most admitted triggers in any span `[t, t + spanMs)`. */
function mostAdmittedInAnySpan(
  results: ReadonlyArray<{ now: number; evaluation: TripEvaluation }>,
  spanMs: number,
) {
  const times = results.filter((result) => !result.evaluation.tripped).map((result) => result.now);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[first] ?? 0) <= (times[last] ?? 0) - spanMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe.each(redisTopologies)("the spread global budget on $name", ({ test }) => {
  test("four gate processes: no trip at 96 % of a budget of 2,000 per window, a trip at 102 %, never more than 2,000 admitted in a window", async ({
    createRedisClient,
  }) => {
    const evaluators = await gateProcesses(createRedisClient, 4);
    expect(evaluators[0]?.globalKeys).toHaveLength(8);
    // Below the budget by more than the window's over-count (1/51) and the processes' skew
    // (a part strays by under one trigger per process: 8 parts × 4 / 2,000 = 1.6 %).
    const under = await offer(evaluators, START, 1_920, 2_000);
    expect(under.filter((result) => result.evaluation.outcome !== "under_budget")).toEqual([]);
    // Just over it: each part counts at least 2,040 / 8 - 4 = 251 > 250 once a window is full.
    const over = await offer(evaluators, START + 60_000, 2_040, 2_000);
    const firstTrip = over.findIndex((result) => result.evaluation.outcome === "global_rate");
    expect(firstTrip).toBeGreaterThan(0);
    expect((over[firstTrip]?.now ?? 0) - (START + 60_000)).toBeLessThanOrEqual(1_000);
    expect(mostAdmittedInAnySpan(over, 1_000)).toBeLessThanOrEqual(2_000);
    expect(over[firstTrip]?.evaluation.global?.threshold).toBe(2_000);
  });
});

redisClusterTest(
  "on a 3-master cluster every master holds its share of the global budget's parts",
  async ({ redis, createRedisClient }) => {
    const evaluators = await gateProcesses(createRedisClient, 2);
    await offer(evaluators, START, 1_000, 100);
    const masters = redis.nodes("master");
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(
      masters.map(async (master) => {
        const [, found] = await master.scan("0", "MATCH", "{global-test:global:*", "COUNT", 1_000);
        return found.length;
      }),
    );
    // Eight parts, each counted once in turn, on three even masters: 3, 3 and 2.
    expect(perMaster.sort()).toEqual([2, 3, 3]);
  },
);
