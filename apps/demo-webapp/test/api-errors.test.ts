import { type RedisServerProcess, startRedisServer } from "@mollifier/testing/servers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type StartedApp, startApp } from "./started-app";

const GLOBEX_KEY = "mk_prod_globex_demo";

let redis: RedisServerProcess;
let app: StartedApp;

beforeAll(async () => {
  redis = await startRedisServer();
  app = await startApp({ REDIS_URL: redis.url, MOLLIFIER_MAX_PAYLOAD_BYTES: "1024" });
});
afterAll(async () => {
  await app?.stop();
  await redis?.dispose();
});

const trigger = (body: unknown, key?: string) =>
  app.api("POST", "/api/v1/tasks/email/trigger", { body, ...(key !== undefined ? { key } : {}) });

describe("every error row of the README's answer table, from the started server", () => {
  test("400: a body that is not JSON", async () => {
    const answer = await app.api("POST", "/api/v1/tasks/email/trigger", { rawBody: "{nope" });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe("MALFORMED_JSON");
  });

  test("401: a missing or unknown API key", async () => {
    expect((await trigger({}, "")).status).toBe(401);
    expect((await trigger({}, "mk_wrong")).status).toBe(401);
    expect((await app.api("GET", "/api/v3/runs/run_x", { key: "mk_wrong" })).status).toBe(401);
  });

  test("404: a run or key this environment does not have - another tenant's run included - and unknown API paths, as JSON", async () => {
    const created = await trigger({ payload: { n: 1 } });
    expect(created.status).toBe(201);
    const runId = created.body.id as string;
    const asGlobex = { key: GLOBEX_KEY };
    const answers = [
      await app.api("GET", "/api/v1/runs/run_missing"),
      await app.api("GET", `/api/v1/runs/${runId}`, asGlobex),
      await app.api("GET", `/api/v3/runs/${runId}`, asGlobex),
      await app.api("POST", `/api/v1/runs/${runId}/cancel`, { ...asGlobex, body: {} }),
      await app.api("POST", `/api/v2/runs/${runId}/cancel`, { ...asGlobex, body: {} }),
      await app.api("POST", `/api/v1/runs/${runId}/tags`, { ...asGlobex, body: { tags: ["x"] } }),
      await app.api("PUT", `/api/v1/runs/${runId}/metadata`, { ...asGlobex, body: { metadata: { a: 1 } } }),
      await app.api("POST", "/api/v1/idempotency-keys/never-used/reset", { body: { taskId: "email" } }),
      await app.api("POST", "/api/v1/idempotencyKeys/never-used/reset", {
        body: { taskIdentifier: "email" },
      }),
      await app.api("GET", "/api/v2/batches/batch_missing"),
      await app.api("GET", "/api/v9/nothing/here"),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get("content-type")).toContain("application/json");
      expect(answer.body.error).toEqual(expect.any(String));
    }
    // The run is untouched by the other tenant's calls.
    const mine = await app.api("GET", `/api/v1/runs/${runId}`);
    expect(mine.body).toMatchObject({ status: "QUEUED", tags: [], metadata: null });
  });

  test("409: a metadata version conflict", async () => {
    const runId = (await trigger({})).body.id as string;
    const path = `/api/v1/runs/${runId}/metadata`;
    expect((await app.api("PUT", path, { body: { metadata: { step: 1 }, expectedVersion: 0 } })).status).toBe(
      200,
    );
    const stale = await app.api("PUT", path, { body: { metadata: { step: 2 }, expectedVersion: 0 } });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe("VERSION_CONFLICT");
  });

  test("413: a body larger than MOLLIFIER_MAX_PAYLOAD_BYTES", async () => {
    const answer = await trigger({ payload: "x".repeat(2_000) });
    expect(answer.status).toBe(413);
  });

  test("422: invalid options, with a message naming the field", async () => {
    const answer = await trigger({ options: { tags: 5 } });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toContain("options.tags");
    const unknown = await trigger({ options: { notAnOption: true } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toContain("notAnOption");
  });

  test("a retried request with the same x-trigger-request-idempotency-key gets the first answer", async () => {
    const headers = { "x-trigger-request-idempotency-key": "req-1" };
    const first = await app.api("POST", "/api/v1/tasks/email/trigger", { body: {}, headers });
    const retry = await app.api("POST", "/api/v1/tasks/email/trigger", { body: {}, headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get("x-mollifier-replayed")).toBe("true");
    const other = await app.api("POST", "/api/v1/tasks/email/trigger", {
      body: {},
      headers: { "x-trigger-request-idempotency-key": "req-2" },
    });
    expect(other.body.id).not.toBe(first.body.id);
  });

  test("429 with Retry-After: an env tripped with as many runs buffered as MOLLIFIER_MAX_ENV_DEPTH allows, nothing written", async () => {
    const cappedRedis = await startRedisServer();
    const capped = await startApp({
      REDIS_URL: cappedRedis.url,
      MOLLIFIER_DRAINER: "separate",
      MOLLIFIER_TRIP_THRESHOLD: "1",
      MOLLIFIER_TRIP_HOLD_MS: "600000",
      MOLLIFIER_GATE_TIME_BUDGET_MS: "2000",
      MOLLIFIER_MAX_ENV_DEPTH: "2",
    });
    try {
      const sent = (index: number) =>
        capped.api("POST", "/api/v1/tasks/email/trigger", { body: { payload: { index } } });
      // The first passes under budget (database); the env trips, and the buffer takes two.
      const answers = [];
      for (let index = 0; index < 3; index++) answers.push(await sent(index));
      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
      // The two after it were mollified (buffered), not written.
      expect(answers.map((answer) => answer.body.notice !== undefined)).toEqual([false, true, true]);
      const refused = await sent(3);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.body).toEqual({ error: expect.stringContaining("(2)"), code: "BUFFER_FULL" });
      const listed = await capped.api("GET", "/api/v1/runs?page[size]=10");
      expect(listed.status).toBe(200);
      expect((listed.body.data as unknown[]).length).toBe(3);
    } finally {
      await capped.stop();
      await cappedRedis.dispose();
    }
  });

  // Last: it stops Redis. The database (PGlite, in the app) cannot be stopped from here, so the
  // "both stores down" and "stored run while the database is down" rows are covered by
  // test/outage.test.ts and test/database-outage.test.ts.
  test("503 with Retry-After: a keyed trigger while Redis is down (strict), nothing written", async () => {
    await redis.stop();
    try {
      const answer = await trigger({ options: { idempotencyKey: "during-outage" } });
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("5");
    } finally {
      await redis.start();
    }
  });
});
