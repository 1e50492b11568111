import { startDemoProcess } from "./demo-process";

const READY_LINE = /drainer running[^\n]*\n\s*metrics (\S+)/;

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
  const drainer = await startDemoProcess(
    "drainer",
    "server/drainer.ts",
    { ...process.env, HOST: "127.0.0.1", ...environment },
    READY_LINE,
  );
  return { metricsUrl: drainer.ready, output: drainer.output, stop: drainer.stop };
}
