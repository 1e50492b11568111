import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The demo app's directory; its server entry points are started as its scripts do: `node --import tsx`. */
export const DEMO_APP_DIRECTORY = resolve(import.meta.dirname, "../../apps/demo-webapp");
const READY_TIMEOUT_MS = 60_000;

/** Which of the demo's processes: the web app (API and gate), or a separate drainer. */
export type AppProcessKind = "app" | "drainer";

/** One demo process this suite started: it can be killed and started again with the same settings. */
export interface AppProcess {
  readonly kind: AppProcessKind;
  readonly name: string;
  /** How long the last start took until the process said it was ready, ms. */
  readonly lastReadyMs: number;
  /** Exits seen that this suite did not ask for (a crash), with their code or signal. */
  readonly unexpectedExits: readonly string[];
  start(): Promise<void>;
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines the process printed, for failure messages. */
  output(): string;
}

const READY_LINE: Record<AppProcessKind, RegExp> = {
  app: /Dashboard:\s+http/,
  drainer: /drainer running/,
};

/**
 * Starts the demo's `server/serve.ts` (kind `app`) or `server/drainer.ts`
 * (kind `drainer`) as a real process with `environment`, and resolves once it
 * prints its ready line.
 */
export function appProcess(
  kind: AppProcessKind,
  name: string,
  environment: Record<string, string>,
): AppProcess {
  let child: ChildProcess | undefined;
  let expectingExit = false;
  let lastReadyMs = 0;
  let log = "";
  const unexpectedExits: string[] = [];
  const entry = kind === "app" ? "server/serve.ts" : "server/drainer.ts";

  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-6_000);
  };

  return {
    kind,
    name,
    get lastReadyMs() {
      return lastReadyMs;
    },
    unexpectedExits,
    output: () => log,
    async start() {
      if (child !== undefined) throw new Error(`${name} is already running`);
      const started = Date.now();
      const process_ = spawn(process.execPath, ["--import", "tsx", entry], {
        cwd: DEMO_APP_DIRECTORY,
        env: { ...process.env, ...environment },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so a kill reaches every process the server may have started.
        detached: true,
      });
      child = process_;
      expectingExit = false;
      let ready = false;
      process_.stdout?.on("data", (chunk: Buffer) => {
        keep(chunk);
        if (!ready && READY_LINE[kind].test(log)) {
          ready = true;
          lastReadyMs = Date.now() - started;
        }
      });
      process_.stderr?.on("data", keep);
      process_.once("exit", (code, signal) => {
        if (child === process_) child = undefined;
        if (!expectingExit) unexpectedExits.push(`${name} exited (${signal ?? `code ${code}`})`);
      });
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!ready) {
        if (child !== process_) throw new Error(`${name} exited before it was ready:\n${log}`);
        if (Date.now() > deadline) {
          await this.kill();
          throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
        }
        await sleep(25);
      }
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      const running = child;
      if (running === undefined) return;
      expectingExit = true;
      const exited = new Promise<void>((done) => running.once("exit", () => done()));
      if (running.pid !== undefined) process.kill(-running.pid, signal);
      else running.kill(signal);
      await exited;
    },
  };
}
