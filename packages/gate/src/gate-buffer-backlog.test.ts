import { MollifierBuffer } from "@mollifier/buffer";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { evaluateGate } from "./evaluate-gate.js";
import { RedisTripEvaluator } from "./trip-evaluator.js";

const ORG = "org-backlog";
const ENV = "env-backlog";

describe.each(redisTopologies)("sticky while backlogged, with the real buffer, on $name", ({ test }) => {
  test("an env keeps mollifying while the buffer holds its entries (queued or leased) and passes again once they are acked", async ({
    redis,
  }) => {
    await redis.ping();
    const buffer = new MollifierBuffer({ redis });
    const evaluator = new RedisTripEvaluator({
      redis,
      keys: buffer.keys,
      tripThreshold: 1_000,
      tripHoldMs: 0,
    });
    let now = 1_700_000_000_000;
    const decide = () =>
      evaluateGate(
        { orgId: ORG, envId: ENV, taskId: "task" },
        {
          config: { enabled: true, shadowMode: false, batchSupport: false, timeBudgetMs: 5_000 },
          resolveEnrollment: () => true,
          evaluator,
          clock: () => now++,
        },
      );

    expect(await decide()).toMatchObject({ action: "pass_through", reason: "under_budget" });
    for (const runId of ["run-1", "run-2"]) {
      const accepted = await buffer.accept({
        runId,
        orgId: ORG,
        envId: ENV,
        taskId: "task",
        payload: {},
        options: {},
      });
      expect(accepted.outcome).toBe("accepted");
    }
    expect(await decide()).toMatchObject({
      action: "mollify",
      reason: "backlogged",
      evaluation: { backlog: 2 },
    });

    const leased = await buffer.lease({ orgId: ORG, envId: ENV, count: 2 });
    expect(leased.entries).toHaveLength(2);
    expect(await decide()).toMatchObject({
      action: "mollify",
      reason: "backlogged",
      evaluation: { backlog: 2 },
    });

    const [first, second] = leased.entries;
    if (first === undefined || second === undefined) throw new Error("expected two leased entries");
    await buffer.ack(first);
    expect(await decide()).toMatchObject({
      action: "mollify",
      reason: "backlogged",
      evaluation: { backlog: 1 },
    });
    await buffer.ack(second);
    expect(await decide()).toMatchObject({
      action: "pass_through",
      reason: "under_budget",
      evaluation: { backlog: 0 },
    });
  });
});
