import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect } from "vitest";
import type { Database } from "../app/engine/database.server";
import { TerminalDrainError } from "../app/mollifier/materialise.server";
import { ACME_PROD, createHarness, GLOBEX_PROD, openTestDatabase } from "./harness";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

async function nothingWritten(harness: Awaited<ReturnType<typeof createHarness>>) {
  expect((await database.query("SELECT count(*)::integer AS n FROM runs")).rows[0]?.n).toBe(0);
  expect((await harness.services.buffer.stats()).depth).toBe(0);
}

describe("bad input gets the right answer and writes nothing", () => {
  redisTest(
    "malformed JSON 400, oversized payload 413, bad API key 401, invalid options 422",
    async ({ redis }) => {
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        // A budget of 1/s so a valid trigger here would be buffered: nothing may reach either store.
        config: { mode: "mollify", gate: { tripThreshold: 1 }, maxPayloadBytes: 1_024 },
        runDrainer: false,
      });
      try {
        const path = "/api/v1/tasks/t/trigger";
        expect((await harness.api("POST", path, { rawBody: "{nope" })).status).toBe(400);
        const big = await harness.api("POST", path, { body: { payload: "x".repeat(2_000) } });
        expect(big.status).toBe(413);
        expect((await harness.api("POST", path, { key: "mk_wrong", body: {} })).status).toBe(401);
        expect((await harness.api("POST", path, { key: "", body: {} })).status).toBe(401);
        const invalid = [
          [{ options: { tags: 5 } }, "options.tags"],
          [{ options: { tags: Array.from({ length: 11 }, (_, index) => `t${index}`) } }, "options.tags"],
          [{ options: { delay: "soon" } }, "options.delay"],
          [{ options: { idempotencyKeyTTL: "1h" } }, "idempotencyKeyTTL needs idempotencyKey"],
          [{ options: { resumeParentOnCompletion: true } }, "resumeParentOnCompletion needs parentRunId"],
          [{ options: { unknownOption: 1 } }, "unknownOption"],
          [{ payload: {}, extra: true }, "extra"],
        ] as const;
        for (const [body, message] of invalid) {
          const answer = await harness.api("POST", path, { body });
          expect(answer.status).toBe(422);
          expect(answer.body.error).toContain(message);
        }
        const batch = await harness.api("POST", "/api/v1/tasks/t/batch", { body: { items: [] } });
        expect(batch.status).toBe(422);
        await nothingWritten(harness);
      } finally {
        await harness.close();
      }
    },
  );

  redisTest("another tenant's run is not found, buffered or stored", async ({ redis }) => {
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
      runDrainer: false,
    });
    try {
      const answers = [];
      for (let index = 0; index < 4; index++) {
        answers.push(
          await harness.api("POST", "/api/v1/tasks/t/trigger", { key: ACME_PROD?.apiKey, body: {} }),
        );
      }
      const stored = answers.find((answer) => answer.body.notice === undefined)?.body.id as string;
      const buffered = answers.find((answer) => answer.body.notice !== undefined)?.body.id as string;
      expect(stored).toBeDefined();
      expect(buffered).toBeDefined();
      const other = GLOBEX_PROD?.apiKey;
      for (const runId of [stored, buffered]) {
        expect((await harness.api("GET", `/api/v1/runs/${runId}`, { key: other })).status).toBe(404);
        expect(
          (await harness.api("POST", `/api/v1/runs/${runId}/cancel`, { key: other, body: {} })).status,
        ).toBe(404);
        expect(
          (await harness.api("POST", `/api/v1/runs/${runId}/tags`, { key: other, body: { tags: ["x"] } }))
            .status,
        ).toBe(404);
        expect((await harness.api("GET", `/api/v1/runs/${runId}`)).status).toBe(200);
      }
      expect((await harness.api("GET", "/api/v1/buffer", { key: other })).body.data).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});

describe("gate bypasses and drain failures", () => {
  redisTest(
    "debounce, one-time token and trigger-and-wait go straight to the database while the env is tripped",
    async ({ redis }) => {
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
        runDrainer: false,
      });
      try {
        for (let index = 0; index < 4; index++)
          await harness.api("POST", "/api/v1/tasks/t/trigger", { body: {} });
        const tripped = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: {} });
        expect(tripped.body.notice).toBeDefined();
        const bypasses = [
          { debounce: { key: "d", delay: "5s" } },
          { oneTimeUseToken: "token-1" },
          { parentRunId: "run_parent", resumeParentOnCompletion: true },
        ];
        for (const options of bypasses) {
          const answer = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { options } });
          expect(answer.status).toBe(201);
          expect(answer.body.notice).toBeUndefined();
          expect((await harness.api("GET", `/api/v1/runs/${answer.body.id}`)).body.location).toBe("database");
        }
        const reused = await harness.api("POST", "/api/v1/tasks/t/trigger", {
          body: { options: bypasses[1] },
        });
        expect(reused.status).toBe(422);
        const batch = await harness.api("POST", "/api/v1/tasks/t/batch", { body: { items: [{}, {}] } });
        expect(batch.body.runs.every((run: { notice?: string }) => run.notice === undefined)).toBe(true);
        const decisions = harness.services.stats.decisions;
        expect(decisions["pass_through:bypass_debounce"]).toBe(1);
        expect(decisions["pass_through:bypass_one_time_token"]).toBe(2);
        expect(decisions["pass_through:bypass_trigger_and_wait"]).toBe(1);
        expect(decisions["pass_through:bypass_batch"]).toBe(2);
      } finally {
        await harness.close();
      }
    },
  );

  redisTest("a terminal drain failure leaves a SYSTEM_FAILURE row for the run", async ({ redis }) => {
    let doomed = "";
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
      runDrainer: false,
      beforeMaterialise: (entry) => {
        if (entry.runId === doomed) throw new TerminalDrainError("the task no longer exists");
      },
    });
    try {
      for (let index = 0; index < 4; index++)
        await harness.api("POST", "/api/v1/tasks/t/trigger", { body: {} });
      const answer = await harness.api("POST", "/api/v1/tasks/t/trigger", { body: { payload: { n: 1 } } });
      expect(answer.body.notice).toBeDefined();
      doomed = answer.body.id;
      harness.services.drainer.start();
      await harness.drained();
      const run = await harness.api("GET", `/api/v1/runs/${doomed}`);
      expect(run.body).toMatchObject({ status: "SYSTEM_FAILURE", location: "database" });
      expect(run.body.error).toContain("the task no longer exists");
    } finally {
      await harness.close();
    }
  });
});
