import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { SEEDED_ENVIRONMENTS } from "../app/engine/seed.server";
import { countingDatabase, createHarness, openTestDatabase } from "./harness";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const WRITE_LIMIT = 2;
const TRIGGERS = 600;

redisTest(
  "a burst far above budget in mollify mode loses nothing, duplicates nothing and never exceeds the database's write limit",
  async ({ redis }) => {
    const counted = countingDatabase(database);
    const harness = await createHarness({
      redis: redis as Redis,
      database: counted,
      config: {
        mode: "mollify",
        // 5 triggers/s per env against 600 in a few seconds: over 10x the budget.
        gate: { tripThreshold: 5 },
        maxConcurrentWrites: WRITE_LIMIT,
        drainConcurrency: 8,
        drainRatePerSecond: 400,
      },
    });
    try {
      const burstId = "burst_test";
      const runIds: string[] = [];
      let mollified = 0;
      let next = 0;
      // 40 clients at once, each sending its share back to back.
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          for (let seq = next++; seq < TRIGGERS; seq = next++) {
            const env = SEEDED_ENVIRONMENTS[seq % SEEDED_ENVIRONMENTS.length];
            const key = seq % 10 === 0 ? `key-${seq % 300}` : undefined;
            const answer = await harness.api("POST", "/api/v1/tasks/burst-task/trigger", {
              key: env?.apiKey,
              body: {
                payload: { burstId, seq, ...(key ? { key } : {}) },
                options: key ? { idempotencyKey: key } : {},
              },
            });
            expect(answer.status === 200 || answer.status === 201).toBe(true);
            runIds.push(answer.body.id);
            if (answer.body.notice) mollified++;
          }
        }),
      );
      expect(mollified).toBeGreaterThan(TRIGGERS / 2);
      await harness.drained(60_000);

      const verification = await harness.services.engine.verifyBurst(burstId, runIds);
      expect(verification.runsLost).toBe(0);
      expect(verification.runsDuplicated).toBe(0);
      // 600 triggers, of which 60 share 30 keys spread over 6 envs (each key lands in one env): 570 runs.
      expect(new Set(runIds).size).toBe(570);
      expect(verification.runsInDatabase).toBe(570);
      expect(counted.maxConcurrentWrites()).toBeLessThanOrEqual(WRITE_LIMIT);
      expect(harness.services.engine.writes.maxInFlight).toBeLessThanOrEqual(WRITE_LIMIT);
      // The limit was actually reached: the database was under pressure, not idle.
      expect(counted.maxConcurrentWrites()).toBe(WRITE_LIMIT);
    } finally {
      await harness.close();
    }
  },
);
