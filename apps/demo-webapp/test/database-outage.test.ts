import { type PostgresServerProcess, redisTest, startPostgresServer } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { type Database, openDatabase } from "../app/engine/database.server";
import { createHarness, GLOBEX_PROD, rowsPerRun } from "./harness";

// A private PostgreSQL server, so the outage is real: the server is stopped, every connection drops.
let postgres: PostgresServerProcess;
let database: Database;
beforeAll(async () => {
  postgres = await startPostgresServer();
  database = await openDatabase({ databaseUrl: postgres.url, poolSize: 4 });
});
afterAll(async () => {
  await database?.close();
  await postgres?.dispose();
});

redisTest(
  "with the database down, triggers fail over to the buffer and are written once it is back; with Redis down too, the answer is 503",
  async ({ redis, redisEndpoint }) => {
    redis.on("error", () => undefined);
    // A budget no trigger here reaches: every trigger's decision is the direct database write.
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      runDrainer: false,
      config: { mode: "mollify", gate: { tripThreshold: 1_000 } },
    });
    try {
      const stored = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { payload: { n: 0 }, options: { idempotencyKey: "order-1" } },
      });
      expect(stored).toMatchObject({ status: 201, body: { status: "QUEUED" } });
      expect(stored.body.notice).toBeUndefined();
      // The key's claim has expired (claims live minutes; a key lives as long as its run): only
      // the database knows that the run holds the key.
      await redis.flushall();

      await postgres.stop();
      const failedOver = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { payload: { n: 1 } },
      });
      expect(failedOver).toMatchObject({ status: 201, body: { status: "QUEUED", queuePosition: 0 } });
      expect(failedOver.body.notice).toEqual(expect.any(String));
      // A keyed trigger is buffered too, and its key answers the buffered run meanwhile.
      const keyed = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        key: GLOBEX_PROD?.apiKey,
        body: { options: { idempotencyKey: "order-7" } },
      });
      expect(keyed.status).toBe(201);
      const keyedAgain = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        key: GLOBEX_PROD?.apiKey,
        body: { options: { idempotencyKey: "order-7" } },
      });
      expect(keyedAgain).toMatchObject({ status: 200, body: { id: keyed.body.id, isCached: true } });
      // The key only the database holds cannot be checked: the trigger is buffered, and when it
      // drains into the held key it becomes the run holding it (never a failed run).
      const heldKey = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { idempotencyKey: "order-1" } },
      });
      expect(heldKey.status).toBe(201);
      expect(heldKey.body.notice).toEqual(expect.any(String));
      // A buffered run reads from the buffer; a stored one cannot be read, and says why.
      expect(await harness.api("GET", `/api/v1/runs/${failedOver.body.id}`)).toMatchObject({
        status: 200,
        body: { location: "buffer" },
      });
      const unreadable = await harness.api("GET", `/api/v1/runs/${stored.body.id}`);
      expect(unreadable).toMatchObject({ status: 503, body: { code: "UNAVAILABLE" } });
      expect(unreadable.headers.get("retry-after")).toBe("5");

      await postgres.start();
      harness.services.drainer.start();
      await harness.drained();
      const rows = await rowsPerRun(database);
      expect([stored.body.id, failedOver.body.id, keyed.body.id].map((id) => rows.get(id))).toEqual([
        1, 1, 1,
      ]);
      expect(rows.size).toBe(3);
      const resolved = await harness.api("GET", `/api/v1/runs/${heldKey.body.id}`);
      expect(resolved).toMatchObject({
        status: 200,
        body: { id: stored.body.id, resolvedFromRunId: heldKey.body.id, status: "QUEUED" },
      });

      // Both stores down: nothing can take the trigger, and the caller is told to come back.
      await postgres.stop();
      await redisEndpoint.stop();
      const refused = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { payload: { n: 2 } } });
      expect(refused).toMatchObject({ status: 503, body: { code: "UNAVAILABLE" } });
      expect(refused.headers.get("retry-after")).toBe("5");

      await redisEndpoint.start();
      await postgres.start();
    } finally {
      await harness.close();
    }
  },
);
