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
      const before = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { payload: { n: 0 }, options: { idempotencyKey: "stored-before" } },
      });
      expect(before.status).toBe(201);
      await redisEndpoint.stop();
      const during = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { payload: { n: 1 } } });
      expect(during.status).toBe(201);
      expect(during.body.notice).toBeUndefined();
      // Strict by default: a keyed trigger the database does not know is refused, since a run
      // buffered under the key would be invisible and a new run could duplicate it.
      const keyed = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "during-outage" } },
      });
      expect(keyed).toMatchObject({ status: 503, body: { code: "UNAVAILABLE" } });
      expect(keyed.headers.get("retry-after")).toBe("5");
      // A key the database holds is still answered, with its run.
      const storedKey = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "stored-before" } },
      });
      expect(storedKey).toMatchObject({ status: 200, body: { id: before.body.id, isCached: true } });
      const read = await harness.api("GET", `/api/v1/runs/${during.body.id}`);
      expect(read.body).toMatchObject({ id: during.body.id, location: "database" });
      expect(harness.services.stats.decisions["pass_through:degraded"]).toBeGreaterThanOrEqual(1);
    } finally {
      await redisEndpoint.start();
      await harness.close();
    }
  },
);

redisTest(
  "with Redis down and idempotency set to lenient, a keyed trigger the database does not know is written there",
  async ({ redis, redisEndpoint }) => {
    redis.on("error", () => undefined);
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", idempotencyDuringRedisOutage: "lenient" },
    });
    try {
      await redisEndpoint.stop();
      const keyed = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "lenient-key" } },
      });
      expect(keyed).toMatchObject({ status: 201, body: { idempotencyKey: "lenient-key" } });
      const again = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "lenient-key" } },
      });
      expect(again).toMatchObject({ status: 200, body: { id: keyed.body.id, isCached: true } });
    } finally {
      await redisEndpoint.start();
      await harness.close();
    }
  },
);
