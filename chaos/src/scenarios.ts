import { setTimeout as sleep } from "node:timers/promises";
import type { Stack } from "./stack.js";

/** A fault injected into a running stack while triggers are being sent. */
export interface Scenario {
  readonly name: string;
  /** What the fault is, for the report. */
  readonly description: string;
  /** Injects the fault now and heals it (an outage lasts `outageMs`); runs while the load is being sent. */
  inject(stack: Stack, outageMs: number): Promise<void>;
}

function drainer(stack: Stack, index: number) {
  const found = stack.drainers[index];
  if (!found) throw new Error(`the stack has no drainer ${index + 1}`);
  return found;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "drainer-sigkill-twice",
    description: "SIGKILL a drainer mid-batch, start it again, SIGKILL it again",
    inject: async (stack, outageMs) => {
      for (let round = 0; round < 2; round++) {
        await drainer(stack, 0).kill("SIGKILL");
        await sleep(Math.min(outageMs, 2_000));
        await drainer(stack, 0).start();
        await sleep(500);
      }
    },
  },
  {
    name: "app-sigkill",
    description: "SIGKILL the app (API and gate) during the burst, start it again",
    inject: async (stack, outageMs) => {
      await stack.app.kill("SIGKILL");
      await sleep(Math.min(outageMs, 2_000));
      await stack.app.start();
    },
  },
  {
    name: "redis-restart",
    description: "restart Redis (append-only file, fsync always) during the burst",
    inject: async (stack, outageMs) => {
      await stack.redis.stop();
      await sleep(Math.min(outageMs, 3_000));
      await stack.redis.start();
    },
  },
  {
    name: "db-connections-terminated",
    description: "terminate every database connection (pg_terminate_backend), as a failover does",
    inject: async (stack) => {
      await stack.terminateDatabaseConnections();
    },
  },
  {
    name: "db-outage",
    description: "stop the database for the outage time, then start it again",
    inject: async (stack, outageMs) => {
      await stack.postgres.stop();
      await sleep(outageMs);
      await stack.postgres.start();
    },
  },
];

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  return found;
}
