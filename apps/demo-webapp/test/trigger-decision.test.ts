import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import type { Database } from "../app/engine/database.server";
import { ACME_PROD, createHarness, openTestDatabase } from "./harness";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

redisTest(
  "the trigger service returns the gate's whole decision and where the run went",
  async ({ redis }) => {
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
      runDrainer: false,
    });
    try {
      const env = ACME_PROD;
      if (!env) throw new Error("no seeded env");
      const { triggers } = harness.services;
      const first = await triggers.trigger(env, "email", { payload: { n: 1 } });
      expect(first.decision).toMatchObject({
        action: "pass_through",
        reason: "under_budget",
        evaluation: { count: 1, threshold: 1 },
      });
      expect(first.destination).toBe("database");

      const second = await triggers.trigger(env, "email", { payload: { n: 2 } });
      expect(second.decision).toMatchObject({
        action: "mollify",
        reason: "per_env_rate",
        evaluation: { tripped: true, threshold: 1 },
      });
      expect(second.destination).toBe("buffer");
      expect(second.response.notice).toBeDefined();

      const debounced = await triggers.trigger(env, "email", {
        options: { debounce: { key: "d", delay: "1s" } },
      });
      expect(debounced.decision).toEqual({ action: "pass_through", reason: "bypass_debounce" });
      expect(debounced.destination).toBe("database");

      const batchItem = await triggers.trigger(env, "email", {}, { batch: true });
      expect(batchItem.decision).toEqual({ action: "pass_through", reason: "bypass_batch" });

      const keyed = await triggers.trigger(env, "email", { options: { idempotencyKey: "once" } });
      const again = await triggers.trigger(env, "email", { options: { idempotencyKey: "once" } });
      expect(again.response).toMatchObject({ id: keyed.response.id, isCached: true });
      // The run holding the key answered: the gate was not asked.
      expect(again.decision).toBeUndefined();
      expect(again.destination).toBeUndefined();
    } finally {
      await harness.close();
    }
  },
);

redisTest("in mode off the gate is never asked", async ({ redis }) => {
  const harness = await createHarness({ redis: redis as Redis, database, config: { mode: "off" } });
  try {
    const env = ACME_PROD;
    if (!env) throw new Error("no seeded env");
    const result = await harness.services.triggers.trigger(env, "email", { payload: {} });
    expect(result.decision).toBeUndefined();
    expect(result.destination).toBe("database");
    expect(harness.services.stats.decisions).toEqual({ "pass_through:mode_off": 1 });
  } finally {
    await harness.close();
  }
});
