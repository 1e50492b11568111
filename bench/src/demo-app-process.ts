import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@mollifier/testing/servers";
import { startServerProcess } from "./server-process.js";
import { repositoryRoot } from "./workspace-build.js";

/** The demo app's directory. */
export const demoAppDirectory = join(repositoryRoot, "apps", "demo-webapp");

/** A demo app server this bench started. */
export interface DemoAppProcess {
  readonly url: string;
  /** Stops the app (SIGTERM to its process group, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;

/** Why the demo app cannot be started here, or `undefined` when it can. */
export function demoAppUnavailableReason(): string | undefined {
  if (!existsSync(join(demoAppDirectory, "server", "serve.ts"))) return "the demo app has no server/serve.ts";
  if (!existsSync(join(demoAppDirectory, "dist", "server", "index.js"))) {
    return "the demo app has no server build (apps/demo-webapp/dist/server/index.js)";
  }
  if (!existsSync(join(demoAppDirectory, "node_modules", ".bin", "tsx"))) return "the demo app has no tsx";
  return undefined;
}

/**
 * Starts the demo app (`server/serve.ts`) on a free port against the bench's
 * Redis, with an in-memory PGlite database (`DATABASE_URL` is removed so a
 * shared Postgres is never written), and waits until it answers.
 */
export async function startDemoApp(settings: Record<string, string>): Promise<DemoAppProcess> {
  const port = await freePort();
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== "DATABASE_URL" && !name.startsWith("MOLLIFIER_"))
      environment[name] = value;
  }
  Object.assign(environment, settings, { PORT: String(port), HOST: "127.0.0.1", NODE_ENV: "production" });
  const url = `http://127.0.0.1:${port}`;
  try {
    const started = await startServerProcess({
      command: process.execPath,
      args: ["--import", "tsx", "server/serve.ts"],
      cwd: demoAppDirectory,
      env: environment,
      timeoutMs: START_TIMEOUT_MS,
      isReady: async () => {
        try {
          const response = await fetch(`${url}/dashboard/stats`, { signal: AbortSignal.timeout(2_000) });
          return response.ok;
        } catch {
          return false; // not listening yet
        }
      },
    });
    return { url, stop: () => started.stop() };
  } catch (error) {
    throw new Error(`the demo app did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
}
