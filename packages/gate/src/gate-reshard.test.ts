import { MollifierBuffer, reshard } from "@mollifier/buffer";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { RedisTripEvaluator } from "./trip-evaluator.js";

const ORG = "org-reshard";
const ENV = "env-reshard";

describe.each(redisTopologies)(
  "the trip evaluator follows its buffer through a reshard, on $name",
  ({ test }) => {
    test("an env's backlog is read from the shard it moved to, once the buffer follows the new layout", async ({
      redis,
    }) => {
      await redis.ping();
      const buffer = new MollifierBuffer({ redis, shardCount: 2 });
      await buffer.checkLayout();
      const evaluator = new RedisTripEvaluator({
        redis,
        keys: buffer.keys,
        tripThreshold: 1_000,
        tripHoldMs: 0,
      });
      let now = 1_700_000_000_000;
      const evaluate = () => evaluator.evaluate({ orgId: ORG, envId: ENV, now: now++ });

      const accepted = await buffer.accept({
        runId: "run-1",
        orgId: ORG,
        envId: ENV,
        taskId: "task",
        payload: {},
        options: {},
      });
      expect(accepted.outcome).toBe("accepted");
      const before = buffer.keys.env(ORG, ENV).depth;
      expect(await evaluate()).toMatchObject({ outcome: "backlogged", backlog: 1 });

      expect(await reshard({ redis, to: 8 })).toMatchObject({ outcome: "completed" });
      expect(await buffer.refreshLayout()).toBe(true);
      // The env's depth now lives in another shard's hash, and the evaluator reads it there.
      expect(buffer.keys.env(ORG, ENV).depth).not.toBe(before);
      expect(await evaluate()).toMatchObject({ outcome: "backlogged", backlog: 1 });

      const { entries } = await buffer.lease({ orgId: ORG, envId: ENV, count: 1 });
      expect(entries).toHaveLength(1);
      await buffer.ackMany(entries);
      expect(await evaluate()).toMatchObject({ outcome: "under_budget", backlog: 0 });
    });
  },
);
