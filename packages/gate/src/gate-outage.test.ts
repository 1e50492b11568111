import { redisTest } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { evaluateGate, type GateCascadeConfig, type GateDependencies } from "./evaluate-gate.js";
import { RedisTripEvaluator } from "./trip-evaluator.js";

const CONFIG: GateCascadeConfig = { enabled: true, shadowMode: false, batchSupport: false, timeBudgetMs: 50 };
const INPUTS = { orgId: "org-1", envId: "env-1", taskId: "task" };

describe("a Redis outage", () => {
  redisTest(
    "with the server stopped the gate answers pass_through / degraded at once, whatever the client's offline queue",
    async ({ createRedisClient, redisEndpoint }) => {
      const strict = createRedisClient({ enableOfflineQueue: false, retryStrategy: () => 50 });
      const queueing = createRedisClient({ retryStrategy: () => 50 });
      for (const client of [strict, queueing]) {
        client.on("error", () => {}); // connection errors are expected here
        await vi.waitFor(() => expect(client.status).toBe("ready"));
      }
      const degradations: string[] = [];
      const dependencies = (client: typeof strict): GateDependencies => ({
        config: CONFIG,
        resolveEnrollment: async () => true,
        evaluator: new RedisTripEvaluator({ redis: client }),
        recorder: {
          decision: () => {},
          degraded: (event) => degradations.push(event.reason),
          buffered: () => {},
          drained: () => {},
          retried: () => {},
          failed: () => {},
          reaped: () => {},
          claim: () => {},
          drainLimits: () => {},
          bufferStats: () => {},
        },
      });
      expect(await evaluateGate(INPUTS, dependencies(strict))).toMatchObject({ reason: "under_budget" });

      await redisEndpoint.stop();
      try {
        await vi.waitFor(() => expect([strict.status, queueing.status]).not.toContain("ready"), {
          timeout: 10_000,
        });
        for (const client of [strict, queueing]) {
          // Bounded by the test's own timeout: a gate that waited for the reconnect would hang here.
          const decision = await evaluateGate(INPUTS, dependencies(client));
          expect(decision).toMatchObject({ action: "pass_through", reason: "degraded" });
        }
        expect(degradations.length).toBe(2);
      } finally {
        await redisEndpoint.start();
      }
      await vi.waitFor(() => expect(strict.status).toBe("ready"), { timeout: 10_000 });
      expect(await evaluateGate(INPUTS, dependencies(strict))).toMatchObject({ reason: "under_budget" });
    },
  );

  redisTest(
    "a server that stops answering (paused) gives pass_through / degraded (timeout) within the budget",
    async ({ redis, createRedisClient }) => {
      const gateClient = createRedisClient({ enableOfflineQueue: false });
      await vi.waitFor(() => expect(gateClient.status).toBe("ready"));
      const dependencies: GateDependencies = {
        config: CONFIG,
        resolveEnrollment: () => true,
        evaluator: new RedisTripEvaluator({ redis: gateClient }),
      };
      await evaluateGate(INPUTS, dependencies); // loads the script
      // Scripts are blocked while clients are paused for writes; the connection stays up.
      await redis.call("CLIENT", "PAUSE", "2000", "WRITE");
      try {
        expect(await evaluateGate(INPUTS, dependencies)).toEqual({
          action: "pass_through",
          reason: "degraded",
          cause: "timeout",
        });
      } finally {
        await redis.call("CLIENT", "UNPAUSE");
      }
    },
  );
});
