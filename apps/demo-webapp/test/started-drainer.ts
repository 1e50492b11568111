import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const APP_DIRECTORY = resolve(import.meta.dirname, "..");
const READY_LINE = /drainer running[^\n]*\n\s*metrics (\S+)/;
const READY_TIMEOUT_MS = 60_000;

/** The separate drainer started as `pnpm demo:drainer` runs it: `node --import tsx server/drainer.ts`. */
export interface StartedDrainer {
  /** The scrape URL it printed, or `"no"` when it serves none. */
  readonly metricsUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `server/drainer.ts` with `environment` (which must name REDIS_URL and DATABASE_URL) and
 * resolves once it prints its ready lines.
 */
export async function startDrainer(environment: Record<string, string>): Promise<StartedDrainer> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server/drainer.ts"], {
    cwd: APP_DIRECTORY,
    env: { ...process.env, HOST: "127.0.0.1", ...environment },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own group: tsx runs the drainer in a child, and the stop must reach both.
    detached: true,
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exitedEarly = false;
  const exited = new Promise<void>((done) =>
    child.once("exit", () => {
      exitedEarly = true;
      done();
    }),
  );
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let metricsUrl: string | undefined;
  while (metricsUrl === undefined) {
    metricsUrl = READY_LINE.exec(log)?.[1];
    if (metricsUrl !== undefined) break;
    if (exitedEarly) throw new Error(`the drainer exited before it was ready:\n${log}`);
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      throw new Error(`the drainer was not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(25);
  }
  return {
    metricsUrl,
    output: () => log,
    async stop() {
      if (exitedEarly || child.pid === undefined) return;
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (!exitedEarly && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
