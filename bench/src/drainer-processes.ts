import { setTimeout as sleep } from "node:timers/promises";
import { type ServerProcess, startServerProcess } from "./server-process.js";

const STOP_TIMEOUT_MS = 10_000;

/** A drainer process (`drainer-process.ts`) the bench starts and stops by signal. */
export interface DrainerProcess {
  /** Entries it acked and CPU it used since it started (µs), as it last reported. */
  counters(): { acked: number; cpuMicroseconds: number };
  /** Starts draining. */
  start(): void;
  /** Stops draining and resolves once the drainer has stopped. */
  pause(): Promise<void>;
  /** Ends the process. */
  stop(): Promise<void>;
}

/** Starts `drainer-process.ts` on the given nodes and resolves once it is connected. */
export async function startDrainerProcess(options: {
  readonly benchDirectory: string;
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  readonly cluster: boolean;
}): Promise<DrainerProcess> {
  const child: ServerProcess = await startServerProcess({
    // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the script in a child
    // process, and the signals below must reach the drainer's own process.
    command: process.execPath,
    args: ["--import", "tsx", "src/drainer-process.ts"],
    cwd: options.benchDirectory,
    env: {
      ...(process.env as Record<string, string>),
      REDIS_NODES: JSON.stringify(options.nodes),
      REDIS_CLUSTER: options.cluster ? "1" : "0",
    },
    isReady: async (output) => output.includes("ready"),
    timeoutMs: 30_000,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("the drainer process has no pid");
  let stops = 0;
  const last = (pattern: RegExp): RegExpExecArray | undefined => {
    let found: RegExpExecArray | undefined;
    for (const match of child.output().matchAll(pattern)) found = match;
    return found;
  };
  return {
    counters() {
      const match = last(/acked (\d+) cpu (\d+)/g);
      return { acked: Number(match?.[1] ?? 0), cpuMicroseconds: Number(match?.[2] ?? 0) };
    },
    start() {
      process.kill(pid, "SIGUSR2");
    },
    async pause() {
      stops++;
      process.kill(pid, "SIGUSR1");
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (Number(last(/stopped (\d+)/g)?.[1] ?? 0) < stops) {
        if (Date.now() > deadline) throw new Error(`the drainer process did not stop:\n${child.output()}`);
        await sleep(10);
      }
    },
    stop: () => child.stop(),
  };
}
