import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { defaultConfig } from "../app/config.server";
import { createAppServices } from "../app/services.server";
import { BUILD_DIRECTORY, createHttpServer, loadServerBuild } from "../server/http-server";
import { openTestDatabase } from "./harness";

const APP_DIRECTORY = resolve(import.meta.dirname, "..");
const ARTIFACTS = join(APP_DIRECTORY, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function newestSource(directory: string): number {
  let newest = 0;
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

// The dashboard is served from the production build; rebuild it when the app changed since.
function ensureBuild(): void {
  const entry = join(BUILD_DIRECTORY, "server/index.js");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestSource(join(APP_DIRECTORY, "app"))) return;
  execFileSync(join(APP_DIRECTORY, "node_modules/.bin/react-router"), ["build"], {
    cwd: APP_DIRECTORY,
    stdio: "pipe",
  });
}

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
    const server: Server = createHttpServer(await loadServerBuild(), services);
    await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
    const profile = mkdtempSync(join(tmpdir(), "mollifier-e2e-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.setViewportSize({ width: 1280, height: 1000 });
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
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-after-burst.png"), fullPage: true });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      await services.close();
    }
  },
  120_000,
);
