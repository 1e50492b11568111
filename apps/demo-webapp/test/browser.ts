// Shared by the Chromium tests: the production build they serve, and a page on a running server.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import type { AppServices } from "../app/services.server";
import { BUILD_DIRECTORY, createHttpServer, loadServerBuild } from "../server/http-server";

const APP_DIRECTORY = resolve(import.meta.dirname, "..");
/** Where the tests leave their screenshots. */
export const ARTIFACTS = join(APP_DIRECTORY, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export type Page = Awaited<ReturnType<BrowserContext["newPage"]>>;

function newestSource(directory: string): number {
  let newest = 0;
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

/** The pages are served from the production build: rebuilds it when the app changed since. */
export function ensureBuild(): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  const entry = join(BUILD_DIRECTORY, "server/index.js");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestSource(join(APP_DIRECTORY, "app"))) return;
  execFileSync(join(APP_DIRECTORY, "node_modules/.bin/react-router"), ["build"], {
    cwd: APP_DIRECTORY,
    stdio: "pipe",
  });
}

/**
 * Serves `services` on a free port and opens headless Chromium on a fresh profile; `use` drives
 * the page. The browser, the server and the services are closed afterwards, whatever happened.
 */
export async function withBrowser(
  services: AppServices,
  use: (page: Page, url: string) => Promise<void>,
): Promise<void> {
  const server: Server = createHttpServer(await loadServerBuild(), services);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const profile = mkdtempSync(join(tmpdir(), "mollifier-e2e-chromium-"));
  try {
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
      await use(page, url);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await services.close();
  }
}
