import { join } from "node:path";
import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { defaultConfig } from "../app/config.server";
import { createAppServices } from "../app/services.server";
import { ARTIFACTS, ensureBuild, withBrowser } from "./browser";
import { openTestDatabase } from "./harness";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  ensureBuild();
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

redisTest(
  "the dashboard fires a burst and shows the buffer depth rise and fall back to zero",
  async ({ redis }) => {
    const services = await createAppServices({
      // A low budget so even a slow machine's burst trips every env, and a low drain cap so
      // the backlog stays visible for several polls.
      config: defaultConfig({
        mode: "mollify",
        gate: { tripThreshold: 3 },
        drainRatePerSecond: 80,
        writeLatencyMs: 1,
      }),
      redis: redis as Redis,
      database,
      runDrainer: true,
    });
    await withBrowser(services, async (page, url) => {
      await page.goto(url);
      await expect.poll(() => page.textContent("[data-testid=mode]")).toContain("mollify");
      await page.fill("[data-testid=burst-rate]", "150");
      await page.fill("[data-testid=burst-seconds]", "3");
      await page.click("[data-testid=fire-burst]");

      const depth = () => page.getAttribute("[data-testid=depth-chart-card]", "data-value").then(Number);
      await expect.poll(depth, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
      // The depth line now holds a point above zero.
      const points = await page.getAttribute("[data-testid=depth-chart] polyline", "points");
      expect(points).not.toBeNull();

      await page.waitForSelector("[data-testid=burst-report]", { timeout: 90_000 });
      await expect.poll(depth, { timeout: 30_000 }).toBe(0);
      const report = await page.textContent("[data-testid=burst-report]");
      expect(report).toMatch(/runsLost0/);
      expect(report).toMatch(/runsDuplicated0/);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-after-burst.png"), fullPage: true });
    });
  },
  120_000,
);
