import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const APP_DIRECTORY = resolve(import.meta.dirname, "..");
const READY_TIMEOUT_MS = 60_000;

/** A demo server process started as its package script runs it, once it printed its ready line. */
export interface DemoProcess {
  /** The ready line's first capture group (a URL the process printed). */
  readonly ready: string;
  /** What the process printed, for failure messages. */
  output(): string;
  /** SIGTERM to its process group, SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <entry>` in the demo's directory with `env`, in its own process
 * group (so a stop reaches every process it started), and resolves once its output matches
 * `readyLine`; throws with the output if it exits first or is not ready within 60 s.
 */
export async function startDemoProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  readyLine: RegExp,
): Promise<DemoProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: APP_DIRECTORY,
    env,
    stdio: ["ignore", "pipe", "pipe"],
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
  let ready: string | undefined;
  while (ready === undefined) {
    ready = readyLine.exec(log)?.[1];
    if (ready !== undefined) break;
    if (exitedEarly) throw new Error(`the ${name} exited before it was ready:\n${log}`);
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      throw new Error(`the ${name} was not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(25);
  }
  return {
    ready,
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
