import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, vi } from "vitest";
import { ACME_PROD, createHarness, openTestDatabase } from "./harness";

/** The buffer's default `retry.maxAttempts`, which the app keeps. */
const BUFFER_MAX_ATTEMPTS = 5;

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe("terminal failures", () => {
  redisTest(
    "an entry whose leases keep expiring (a consumer that crashes on it) becomes one SYSTEM_FAILURE row through the drainer's hook",
    async ({ redis }) => {
      const harness = await createHarness({ redis: redis as Redis, database, runDrainer: false });
      const { buffer, engine, drainer } = harness.services;
      const orgId = ACME_PROD?.orgId ?? "";
      const envId = ACME_PROD?.envId ?? "";
      const runId = "run_crash_loop";
      try {
        await buffer.accept({
          runId,
          orgId,
          envId,
          taskId: "t",
          payload: { n: 1 },
          options: { tags: ["x"], idempotencyKey: "k" },
        });
        // Consumers crash holding the entry: leased, never settled, until the
        // last delivery the buffer's attempt bound allows.
        for (let delivery = 1; ; delivery++) {
          const { entries } = await buffer.lease({ orgId, envId, count: 1, leaseMs: 1 });
          expect(entries.map((entry) => entry.runId)).toEqual([runId]);
          if (delivery === BUFFER_MAX_ATTEMPTS) break;
          await vi.waitFor(async () => expect((await buffer.reapExpiredLeases()).reaped).toBe(1));
        }
        // A healthy drainer's reaper now fails the entry and hands it to the app's one hook.
        drainer.start();
        await vi.waitFor(async () => expect(await engine.findRun(envId, runId)).toBeDefined(), {
          timeout: 20_000,
        });
        await drainer.stop();
        const run = await engine.findRun(envId, runId);
        expect(run).toMatchObject({ status: "SYSTEM_FAILURE", tags: ["x"], idempotencyKey: undefined });
        expect(run?.error).toContain("attempts exhausted");
        const rows = await database.query("SELECT count(*)::integer AS n FROM runs WHERE id = $1", [runId]);
        expect(rows.rows[0]?.n).toBe(1);
        // The buffer keeps its FAILED record for inspection.
        expect(await buffer.getFailed({ orgId, envId, runId })).toMatchObject({ kind: "attempts_exhausted" });
      } finally {
        await harness.close();
      }
    },
  );
});
