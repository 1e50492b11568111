import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { createHarness, openTestDatabase } from "./harness";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

redisTest(
  "with Redis down, triggers fail open to the database and stored runs stay readable",
  async ({ redis, redisEndpoint }) => {
    // The outage is the point of this test: its connection errors are expected.
    redis.on("error", () => undefined);
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", gate: { tripThreshold: 1 } },
    });
    try {
      const before = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { payload: { n: 0 } } });
      expect(before.status).toBe(201);
      await redisEndpoint.stop();
      const during = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { payload: { n: 1 } } });
      expect(during.status).toBe(201);
      expect(during.body.notice).toBeUndefined();
      const keyed = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "during-outage" } },
      });
      expect(keyed.status).toBe(201);
      const read = await harness.api("GET", `/api/v1/runs/${during.body.id}`);
      expect(read.body).toMatchObject({ id: during.body.id, location: "database" });
      expect(harness.services.stats.decisions["pass_through:degraded"]).toBeGreaterThanOrEqual(2);
    } finally {
      await redisEndpoint.start();
      await harness.close();
    }
  },
);
