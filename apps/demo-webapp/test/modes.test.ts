import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect } from "vitest";
import type { MollifierMode } from "../app/config.server";
import type { Database } from "../app/engine/database.server";
import { ACME_PROD, ACME_STAGING, createHarness, GLOBEX_PROD, openTestDatabase, rowsPerRun } from "./harness";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const MODES: MollifierMode[] = ["off", "shadow", "dual-write", "mollify"];

describe.each(MODES)("mode %s", (mode) => {
  redisTest("every triggered run ends in the database exactly once", async ({ redis }) => {
    // A budget of 5/s per env: most of the 90 triggers below go over it.
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode, gate: { tripThreshold: 5, tripHoldMs: 500 }, drainRatePerSecond: 200 },
    });
    try {
      const keys = [ACME_PROD, ACME_STAGING, GLOBEX_PROD].map((env) => env?.apiKey ?? "");
      const answers = await Promise.all(
        Array.from({ length: 90 }, (_, index) =>
          harness.api("POST", "/api/v1/tasks/email/trigger", {
            key: keys[index % keys.length],
            body: {
              payload: { index },
              // Every fifth trigger reuses one of three keys per env: those must collapse to one run each.
              options: index % 5 === 0 ? { idempotencyKey: `k-${index % 3}` } : { tags: ["bulk"] },
            },
          }),
        ),
      );
      expect(answers.every((answer) => answer.status === 200 || answer.status === 201)).toBe(true);
      const ids = new Set(answers.map((answer) => answer.body.id as string));
      const mollified = answers.filter((answer) => answer.body.notice !== undefined).length;
      if (mode === "mollify") expect(mollified).toBeGreaterThan(0);
      else expect(mollified).toBe(0);

      await harness.drained();
      const rows = await rowsPerRun(database);
      expect([...rows.values()].every((count) => count === 1)).toBe(true);
      expect(new Set(rows.keys())).toEqual(ids);
      const statuses = await database.query("SELECT DISTINCT status FROM runs");
      expect(statuses.rows.map((row) => row.status)).toEqual(["QUEUED"]);
      if (mode === "off") expect(harness.services.stats.decisions).toEqual({ "pass_through:mode_off": 90 });
      if (mode === "shadow")
        expect(harness.services.stats.decisions["shadow_log:per_env_rate"]).toBeGreaterThan(0);
      if (mode === "dual-write") {
        expect(harness.services.stats.bufferedTotal).toBeGreaterThan(0);
        expect(harness.services.materialised.verified).toBe(harness.services.stats.bufferedTotal);
      }
    } finally {
      await harness.close();
    }
  });
});

describe("mollify mode, with the drainer held back", () => {
  redisTest(
    "a mollified run is readable, cancellable, taggable and its metadata settable while buffered, and lands with all of it",
    async ({ redis }) => {
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
        runDrainer: false,
      });
      try {
        const trigger = () =>
          harness.api("POST", "/api/v1/tasks/report/trigger", {
            body: { payload: { n: 1 }, options: { tags: ["a"] } },
          });
        // Trip the env, then the next trigger is mollified.
        const answers = [];
        for (let index = 0; index < 5; index++) answers.push(await trigger());
        const mollified = answers.find((answer) => answer.body.notice !== undefined);
        expect(mollified?.status).toBe(201);
        expect(mollified?.body).toMatchObject({ status: "QUEUED", tags: ["a"], isCached: false });
        expect(typeof mollified?.body.queuePosition).toBe("number");
        const runId = mollified?.body.id as string;

        const read = await harness.api("GET", `/api/v1/runs/${runId}`);
        expect(read.body).toMatchObject({ id: runId, status: "QUEUED", location: "buffer" });

        const tagged = await harness.api("POST", `/api/v1/runs/${runId}/tags`, {
          body: { tags: ["b", "c"] },
        });
        expect(tagged.status).toBe(200);
        expect([...tagged.body.tags].sort()).toEqual(["a", "b", "c"]);

        const metadata = await harness.api("PUT", `/api/v1/runs/${runId}/metadata`, {
          body: { metadata: { progress: 0.5 }, expectedVersion: 0 },
        });
        expect(metadata.body).toMatchObject({
          metadata: { progress: 0.5 },
          metadataVersion: 1,
          location: "buffer",
        });
        const stale = await harness.api("PUT", `/api/v1/runs/${runId}/metadata`, {
          body: { metadata: { progress: 0.9 }, expectedVersion: 0 },
        });
        expect(stale.status).toBe(409);

        const listed = await harness.api("GET", "/api/v1/buffer");
        expect(listed.body.data.map((run: { id: string }) => run.id)).toContain(runId);

        const canceled = await harness.api("POST", `/api/v1/runs/${runId}/cancel`, { body: {} });
        expect(canceled.body).toMatchObject({ status: "CANCELED", location: "buffer" });
        expect(
          (await database.query("SELECT count(*)::integer AS n FROM runs WHERE id = $1", [runId])).rows[0]?.n,
        ).toBe(0);

        harness.services.drainer.start();
        await harness.drained();
        const landed = await harness.api("GET", `/api/v1/runs/${runId}`);
        expect(landed.body).toMatchObject({
          id: runId,
          status: "CANCELED",
          location: "database",
          metadata: { progress: 0.5 },
        });
        expect([...landed.body.tags].sort()).toEqual(["a", "b", "c"]);
        // Once in the database, mutations go there.
        const after = await harness.api("POST", `/api/v1/runs/${runId}/tags`, { body: { tags: ["d"] } });
        expect(after.body.location).toBe("database");
        expect(after.body.tags).toContain("d");
      } finally {
        await harness.close();
      }
    },
  );

  redisTest(
    "an idempotent trigger answers the buffered run, and a reset key makes a new run",
    async ({ redis }) => {
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
        runDrainer: false,
      });
      try {
        for (let index = 0; index < 3; index++)
          await harness.api("POST", "/api/v1/tasks/t/trigger", { body: {} });
        const body = { payload: {}, options: { idempotencyKey: "order-1", idempotencyKeyTTL: "1h" } };
        const first = await harness.api("POST", "/api/v1/tasks/t/trigger", { body });
        expect(first.body.notice).toBeDefined();
        const again = await harness.api("POST", "/api/v1/tasks/t/trigger", { body });
        expect(again.body).toMatchObject({ id: first.body.id, isCached: true });
        expect(again.status).toBe(200);

        const reset = await harness.api("POST", "/api/v1/idempotency-keys/order-1/reset", {
          body: { taskId: "t" },
        });
        expect(reset.status).toBe(200);
        const fresh = await harness.api("POST", "/api/v1/tasks/t/trigger", { body });
        expect(fresh.body.id).not.toBe(first.body.id);
        expect(fresh.body.isCached).toBe(false);

        harness.services.drainer.start();
        await harness.drained();
        const rows = await database.query("SELECT id, idempotency_key FROM runs WHERE id = ANY($1::text[])", [
          [first.body.id, fresh.body.id],
        ]);
        const byId = new Map(rows.rows.map((row) => [row.id, row.idempotency_key]));
        expect(byId.get(first.body.id)).toBeNull();
        expect(byId.get(fresh.body.id)).toBe("order-1");
      } finally {
        await harness.close();
      }
    },
  );
});

describe("per-org enrollment", () => {
  redisTest(
    "only enrolled orgs are mollified; the others go to the database however fast they trigger",
    async ({ redis }) => {
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        config: {
          mode: "mollify",
          gate: { tripThreshold: 1, tripHoldMs: 5_000 },
          enrolledOrgs: ["org_globex"],
        },
        runDrainer: false,
      });
      try {
        const send = (key: string | undefined) =>
          Promise.all(
            Array.from({ length: 10 }, () =>
              harness.api("POST", "/api/v1/tasks/t/trigger", { key, body: {} }),
            ),
          );
        const acme = await send(ACME_PROD?.apiKey);
        const globex = await send(GLOBEX_PROD?.apiKey);
        expect(acme.filter((answer) => answer.body.notice !== undefined)).toHaveLength(0);
        expect(globex.filter((answer) => answer.body.notice !== undefined).length).toBeGreaterThan(0);
        expect(harness.services.stats.decisions["pass_through:not_enrolled"]).toBe(10);
      } finally {
        await harness.close();
      }
    },
  );
});

describe("delayed triggers", () => {
  redisTest("a delayed trigger is DELAYED while buffered and once written", async ({ redis }) => {
    const harness = await createHarness({
      redis: redis as Redis,
      database,
      config: { mode: "mollify", gate: { tripThreshold: 1, tripHoldMs: 5_000 } },
      runDrainer: false,
    });
    try {
      for (let index = 0; index < 3; index++)
        await harness.api("POST", "/api/v1/tasks/t/trigger", { body: {} });
      const answer = await harness.api("POST", "/api/v1/tasks/t/trigger", {
        body: { options: { delay: "1h" } },
      });
      expect(answer.body).toMatchObject({ status: "DELAYED" });
      expect(answer.body.notice).toBeDefined();
      expect((await harness.api("GET", `/api/v1/runs/${answer.body.id}`)).body).toMatchObject({
        status: "DELAYED",
        location: "buffer",
      });
      harness.services.drainer.start();
      await harness.drained();
      const stored = await harness.api("GET", `/api/v1/runs/${answer.body.id}`);
      expect(stored.body).toMatchObject({ status: "DELAYED", location: "database" });
      expect(Date.parse(stored.body.delayUntil)).toBeGreaterThan(Date.parse(stored.body.createdAt));
    } finally {
      await harness.close();
    }
  });
});
