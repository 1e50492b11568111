import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/** A server process a case started. */
export interface ServerProcess {
  readonly pid: number | undefined;
  /** Stops it (SIGTERM to its process group, SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** The last 2,000 characters it wrote (stdout and stderr). */
  output(): string;
}

/**
 * Spawns `command` in its own process group (so it never outlives the bench)
 * and resolves once `isReady` answers true, polled every 200 ms, or throws
 * with its output after `timeoutMs`.
 */
export async function startServerProcess(options: {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly isReady: (output: string) => Promise<boolean>;
  readonly timeoutMs: number;
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
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
  const started: ServerProcess = { pid: child.pid, stop, output: () => output.slice(-2_000) };
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await options.isReady(output)) return started;
    await sleep(200);
  }
  await stop();
  throw new Error(`${options.args.join(" ")} did not start:\n${output.slice(-2_000)}`);
}
