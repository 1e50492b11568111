import { BufferKeys } from "@mollifier/buffer";
import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { describe, expect, vi } from "vitest";
import {
  evaluateGate,
  type GateCascadeConfig,
  type GateDependencies,
  type GateInputs,
} from "./evaluate-gate.js";
import { RedisTripEvaluator } from "./trip-evaluator.js";

/** Commands the server executed since the last `CONFIG RESETSTAT`, by name (the admin's own left out). */
async function commandsSinceReset(admin: Redis): Promise<Record<string, number>> {
  const stats = await admin.info("commandstats");
  const calls: Record<string, number> = {};
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name = "", count = "0"] = match;
    // Redis 7 names subcommands `config|resetstat`; the admin's own are left out.
    const command = name.split("|")[0];
    if (command !== "config" && command !== "info") calls[name] = Number(count);
  }
  return calls;
}

const ENABLED: GateCascadeConfig = {
  enabled: true,
  shadowMode: false,
  batchSupport: false,
  timeBudgetMs: 5_000,
};
const INPUTS: GateInputs = { orgId: "org-1", envId: "env-1", taskId: "task" };

describe("server-side command counts", () => {
  redisTest(
    "the kill switch, every bypass and a non-enrolled org with shadow off send zero Redis commands",
    async ({ redis, createRedisClient }) => {
      const gateClient = createRedisClient({ enableOfflineQueue: false });
      await vi.waitFor(() => expect(gateClient.status).toBe("ready"));
      const evaluator = new RedisTripEvaluator({ redis: gateClient, keys: new BufferKeys() });
      const dependencies = (config: GateCascadeConfig, enrolled: boolean): GateDependencies => ({
        config,
        evaluator,
        resolveEnrollment: () => enrolled,
      });
      await redis.config("RESETSTAT");

      const zeroCallDecisions = [
        await evaluateGate(INPUTS, dependencies({ ...ENABLED, enabled: false }, true)),
        await evaluateGate({ ...INPUTS, debounce: true }, dependencies(ENABLED, true)),
        await evaluateGate({ ...INPUTS, oneTimeUseToken: true }, dependencies(ENABLED, true)),
        await evaluateGate({ ...INPUTS, parentWaiting: true }, dependencies(ENABLED, true)),
        await evaluateGate({ ...INPUTS, isBatchItem: true }, dependencies(ENABLED, true)),
        await evaluateGate(INPUTS, dependencies(ENABLED, false)),
      ];
      expect(zeroCallDecisions.map((decision) => decision.reason)).toEqual([
        "kill_switch",
        "bypass_debounce",
        "bypass_one_time_token",
        "bypass_trigger_and_wait",
        "bypass_batch",
        "not_enrolled",
      ]);
      expect(await commandsSinceReset(redis)).toEqual({});

      // The control: an enrolled org's evaluation is one script call on the server.
      const evaluated = await evaluateGate(INPUTS, dependencies(ENABLED, true));
      expect(evaluated.reason).toBe("under_budget");
      const afterEvaluation = await commandsSinceReset(redis);
      expect((afterEvaluation.evalsha ?? 0) + (afterEvaluation.eval ?? 0)).toBeGreaterThanOrEqual(1);
    },
  );

  redisTest(
    "an evaluation of a warm env is a single EVALSHA round trip",
    async ({ redis, createRedisClient }) => {
      const gateClient = createRedisClient({ enableOfflineQueue: false });
      await vi.waitFor(() => expect(gateClient.status).toBe("ready"));
      const evaluator = new RedisTripEvaluator({ redis: gateClient });
      await evaluator.evaluate({ orgId: "org-1", envId: "env-1", now: 1_000 }); // loads the script
      await redis.config("RESETSTAT");
      await evaluator.evaluate({ orgId: "org-1", envId: "env-1", now: 1_001 });
      const calls = await commandsSinceReset(redis);
      expect(calls.evalsha).toBe(1);
      expect(calls.eval).toBeUndefined();
    },
  );
});
