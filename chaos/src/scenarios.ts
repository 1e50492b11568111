import { setTimeout as sleep } from "node:timers/promises";
import { BufferKeys } from "@mollifier/buffer";
import { slotOwnerPort } from "@mollifier/testing/servers";
import type { Cluster } from "ioredis";
import { DEMO_KEY_PREFIX, type Stack, type StackOptions } from "./stack.js";

// A replica is promoted about two node timeouts (2 s here) after its master dies; far longer means
// it never will, and the scenario says so instead of waiting out the test's timeout.
const FAILOVER_TIMEOUT_MS = 30_000;

/** The org whose master the cluster scenario kills: the busiest (half of all triggers). */
export const VICTIM_ORG = "org_acme";

// The port of the master serving `orgId`'s shard now.
function masterOf(observer: Cluster, orgId: string): Promise<number> {
  const keys = new BufferKeys({ prefix: DEMO_KEY_PREFIX });
  return slotOwnerPort(observer, keys.shard(keys.shardOf(orgId)).tag);
}

/** A fault injected into a running stack while triggers are being sent. */
export interface Scenario {
  readonly name: string;
  /** What the fault is, for the report. */
  readonly description: string;
  /** Injects the fault now and heals it (an outage lasts `outageMs`); runs while the load is being sent. */
  inject(stack: Stack, outageMs: number): Promise<void>;
  /** What the stack needs beyond the defaults (a cluster). */
  readonly stack?: StackOptions;
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
      const redis = stack.redis;
      if (!redis) throw new Error("redis-restart needs a single Redis");
      await redis.stop();
      await sleep(Math.min(outageMs, 3_000));
      await redis.start();
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
  {
    name: "cluster-master-killed",
    description:
      "SIGKILL the master of the busiest org's shard on a 3-master cluster with replicas; the replica takes over",
    // Every env over budget, so every org has a backlog to drain while the master is down.
    stack: { cluster: true, tripThreshold: 2 },
    inject: async (stack) => {
      const cluster = stack.cluster;
      if (!cluster || !("nodes" in stack.observer)) throw new Error("cluster-master-killed needs a cluster");
      const observer = stack.observer;
      const port = await masterOf(observer, VICTIM_ORG);
      const victim = cluster.servers.find((server) => server.port === port);
      if (!victim) throw new Error(`no server on port ${port}`);
      await victim.kill();
      // The fault lasts until a replica serves the shard: the failover window.
      const deadline = Date.now() + FAILOVER_TIMEOUT_MS;
      while (Date.now() < deadline) {
        await sleep(200);
        const now = await masterOf(observer, VICTIM_ORG).catch(() => port);
        if (now !== port) return;
      }
      const nodes = await observer.cluster("NODES").catch((error: unknown) => String(error));
      throw new Error(
        `no replica took over from the master on port ${port} within ${FAILOVER_TIMEOUT_MS} ms; CLUSTER NODES:\n${nodes}`,
      );
    },
  },
];

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  return found;
}
