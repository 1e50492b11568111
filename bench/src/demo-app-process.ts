import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@mollifier/testing/servers";
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
  const child: ChildProcess = spawn(
    join(demoAppDirectory, "node_modules", ".bin", "tsx"),
    ["server/serve.ts"],
    {
      cwd: demoAppDirectory,
      env: environment,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  // The app runs in its own process group; make sure it never outlives the bench.
  const killOnExit = () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  };
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/dashboard/stats`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`the demo app did not start:\n${output.slice(-2_000)}`);
}
