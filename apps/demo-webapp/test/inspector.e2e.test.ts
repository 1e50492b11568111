import { join } from "node:path";
import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { defaultConfig } from "../app/config.server";
import { runFromEntry } from "../app/mollifier/materialise.server";
import { createAppServices } from "../app/services.server";
import { ARTIFACTS, ensureBuild, withBrowser } from "./browser";
import { ACME_PROD, GLOBEX_PROD, openTestDatabase } from "./harness";

const acme = ACME_PROD ?? (undefined as never);
const globex = GLOBEX_PROD ?? (undefined as never);

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  ensureBuild();
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const entryOf = (runId: string, tenant = acme) => ({
  runId,
  orgId: tenant.orgId,
  envId: tenant.envId,
  taskId: "e2e",
  payload: { order: runId },
  options: { tags: ["e2e"] },
});

describe("dashboard operator pages in Chromium", () => {
  redisTest(
    "the buffer inspector lists, opens and cancels an env's buffered runs, shows a lease's deadline, replays a failed one into the database once and lists an unreadable one for discarding",
    async ({ redis }) => {
      await database.query("TRUNCATE runs");
      const services = await createAppServices({
        config: defaultConfig({ mode: "mollify", writeLatencyMs: 1 }),
        redis: redis as Redis,
        database,
        runDrainer: false,
        redisPrefix: "inspector-e2e",
      });
      // A failed entry, as the drainer leaves one: the buffer's FAILED record and the failure row.
      await services.buffer.accept(entryOf("run_poison"));
      const [poison] = (await services.buffer.lease({ orgId: acme.orgId, envId: acme.envId, count: 1 }))
        .entries;
      if (poison === undefined) throw new Error("the poison entry was not leased");
      await services.buffer.fail(poison, { error: "TerminalDrainError: poison payload" });
      await services.engine.createRun({
        ...runFromEntry(poison, Date.now),
        status: "SYSTEM_FAILURE",
        error: "TerminalDrainError: poison payload",
      });
      // An entry whose stored snapshot no longer parses: the lease fails it, as the drainer's would.
      await services.buffer.accept(entryOf("run_corrupt"));
      const entries = services.buffer.keys.env(acme.orgId, acme.envId).entries;
      const [acceptedAt] = ((await redis.hget(entries, "run_corrupt")) ?? "").split("|");
      await redis.hset(entries, "run_corrupt", `${acceptedAt}|{"taskId":"e2e",`);
      const corrupt = await services.buffer.lease({ orgId: acme.orgId, envId: acme.envId, count: 1 });
      expect(corrupt.invalid.map((entry) => entry.runId)).toEqual(["run_corrupt"]);
      // A run a drainer holds.
      await services.buffer.accept(entryOf("run_e2e_leased"));
      const [leased] = (
        await services.buffer.lease({ orgId: acme.orgId, envId: acme.envId, count: 1, leaseMs: 600_000 })
      ).entries;
      if (leased === undefined) throw new Error("the leased entry was not leased");
      for (const runId of ["run_e2e_1", "run_e2e_2", "run_e2e_3"])
        await services.buffer.accept(entryOf(runId));
      await services.buffer.accept(entryOf("run_globex_secret", globex));

      await withBrowser(services, async (page, url) => {
        await page.goto(`${url}/dashboard/inspector`);
        await page.fill("[data-testid=inspector-key]", "mk_not_a_key");
        await page.click("[data-testid=inspector-open]");
        await expect
          .poll(() => page.textContent("[data-testid=inspector-error]"))
          .toContain("opens no environment");
        await page.fill("[data-testid=inspector-key]", acme.apiKey);
        await page.click("[data-testid=inspector-open]");
        await page.waitForSelector("[data-testid=buffered-runs]");
        const listed = await page.$$eval("[data-testid=buffered-run] td:first-child", (cells) =>
          cells.map((cell) => cell.textContent),
        );
        expect(listed).toEqual(["run_e2e_1", "run_e2e_2", "run_e2e_3"]);
        expect(await page.content()).not.toContain("run_globex_secret");

        await page.click("text=run_e2e_2");
        await expect
          .poll(() => page.textContent("[data-testid=opened-snapshot]"))
          .toContain('"order": "run_e2e_2"');
        await page.click("[data-testid=cancel-run_e2e_2]");
        await expect
          .poll(() => page.textContent("[data-testid=inspector-notice]"))
          .toContain("run_e2e_2: CANCELED");
        expect(await page.textContent("[data-testid=opened-mutations]")).toContain(
          "canceled in the buffer inspector",
        );

        const failedRows = await page.$$eval("[data-testid=failed-run]", (rows) =>
          rows.map((row) => row.textContent ?? ""),
        );
        expect(failedRows).toHaveLength(2);
        // Newest failure first: the unreadable entry, with the buffer's decode error and its text.
        expect(failedRows[0]).toContain("run_corrupt");
        expect(failedRows[0]).toContain("not valid JSON");
        expect(failedRows[1]).toContain("run_poison");
        expect(failedRows[1]).toContain("poison payload");
        await page.click("[data-testid=unreadable-run_corrupt] summary");
        expect(await page.textContent("[data-testid=unreadable-run_corrupt] pre")).toBe('{"taskId":"e2e",');
        expect(await page.$$("[data-testid=replay-run_corrupt]")).toHaveLength(0);
        await page.screenshot({ path: join(ARTIFACTS, "buffer-inspector.png"), fullPage: true });

        await page.click("[data-testid=replay-run_poison]");
        await expect
          .poll(() => page.textContent("[data-testid=inspector-notice]"))
          .toContain("run_poison: replayed");
        await page.click("[data-testid=discard-run_corrupt]");
        await expect
          .poll(() => page.textContent("[data-testid=inspector-notice]"))
          .toContain("run_corrupt: discarded");
        expect(await page.$$("[data-testid=failed-run]")).toHaveLength(0);

        await page.goto(`${url}/dashboard/inspector?run=run_e2e_leased`);
        const lease = await page.textContent("[data-testid=opened-lease]");
        expect(lease).toContain("Leased to a drainer");
        expect(lease).toContain(new Date(leased.leaseDeadline).toISOString().replace("T", " ").slice(0, 19));
        await page.screenshot({ path: join(ARTIFACTS, "buffer-inspector-leased-run.png"), fullPage: true });
        // A globex run id is not acme's to open.
        await page.goto(`${url}/dashboard/inspector?run=run_globex_secret`);
        expect(await page.textContent("[data-testid=opened-run]")).toContain("Not in the buffer");

        services.drainer.start();
        const rowsOf = async (runId: string) =>
          (await database.query<{ status: string }>("SELECT status FROM runs WHERE id = $1", [runId])).rows;
        await expect.poll(() => rowsOf("run_poison"), { timeout: 20_000 }).toEqual([{ status: "QUEUED" }]);
        await expect.poll(() => rowsOf("run_e2e_3"), { timeout: 20_000 }).toEqual([{ status: "QUEUED" }]);
        expect(await rowsOf("run_poison")).toEqual([{ status: "QUEUED" }]);
      });
    },
    120_000,
  );

  redisTest(
    "the per-tenant view shows depth, drain share, Jain's index and degraded decisions by reason",
    async ({ redis }) => {
      await database.query("TRUNCATE runs");
      const services = await createAppServices({
        // A low drain cap, so the backlog and the shares are visible for a while.
        config: defaultConfig({ mode: "mollify", drainRatePerSecond: 40, writeLatencyMs: 1 }),
        redis: redis as Redis,
        database,
        runDrainer: true,
        redisPrefix: "tenants-e2e",
      });
      for (let index = 0; index < 60; index++) await services.buffer.accept(entryOf(`run_acme_${index}`));
      for (let index = 0; index < 20; index++)
        await services.buffer.accept(entryOf(`run_globex_${index}`, globex));
      // The gate's degradations are counted from the recorder; one is reported here as the gate reports it.
      services.activity.decision({ action: "pass_through", reason: "degraded" });
      services.activity.degraded({
        component: "gate",
        reason: "timeout",
        orgId: acme.orgId,
        envId: acme.envId,
      });

      await withBrowser(services, async (page, url) => {
        await page.goto(`${url}/dashboard/tenants`);
        const drainedOf = (envId: string) =>
          page.getAttribute(`[data-testid=tenant-row][data-env=${envId}]`, "data-drained").then(Number);
        await expect.poll(() => drainedOf(acme.envId), { timeout: 30_000 }).toBeGreaterThan(0);
        await expect.poll(() => drainedOf(globex.envId), { timeout: 30_000 }).toBeGreaterThan(0);
        const fairness = Number(await page.getAttribute("[data-testid=fairness-card]", "data-value"));
        expect(fairness).toBeGreaterThan(0);
        expect(fairness).toBeLessThanOrEqual(1);
        expect(await page.textContent("[data-testid=degraded-reason]")).toContain("gate · timeout");
        expect(await page.getAttribute("[data-testid=degraded-card]", "data-value")).toBe("1");
        const acmeRow = await page.textContent(`[data-testid=tenant-row][data-env=${acme.envId}]`);
        expect(acmeRow).toContain(acme.orgId);
        await page.screenshot({ path: join(ARTIFACTS, "tenant-view.png"), fullPage: true });
      });
    },
    120_000,
  );
});
