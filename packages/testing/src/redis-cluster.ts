import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import {
  freeClusterPort,
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  startRedisServer,
} from "./redis-server.js";

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

/** A real Redis Cluster of three masters on loopback, owned by the test kit. */
export interface RedisClusterProcess {
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  dispose(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` processes, joins them with
 * `redis-cli --cluster create` (16384 slots over three masters, no replicas)
 * and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterProcess> {
  if (!hasRedisServerBinary()) {
    throw new Error(noRedisMessage("a Redis Cluster needs redis-server and redis-cli on the PATH"));
  }
  const servers: RedisServerProcess[] = [];
  try {
    for (let index = 0; index < masters; index++) {
      const port = await freeClusterPort();
      servers.push(
        await startRedisServer({
          port,
          extraArgs: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            "5000",
          ],
        }),
      );
    }
    await execFileAsync("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((server) => `${server.host}:${server.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    await waitForClusterOk(servers);
  } catch (error) {
    await Promise.all(servers.map((server) => server.dispose()));
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: server.host, port: server.port })),
    async dispose() {
      await Promise.all(servers.map((server) => server.dispose()));
    },
  };
}

async function waitForClusterOk(servers: readonly RedisServerProcess[]): Promise<void> {
  const clients = servers.map((server) => new Redis(server.port, server.host, { lazyConnect: true }));
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const infos = await Promise.all(clients.map((client) => client.cluster("INFO")));
      const slotsOk = infos.every(
        (info) =>
          typeof info === "string" &&
          info.includes("cluster_state:ok") &&
          info.includes("cluster_slots_assigned:16384") &&
          info.includes(`cluster_known_nodes:${servers.length}`),
      );
      if (slotsOk) return;
      await sleep(50);
    }
    throw new Error("the Redis Cluster did not reach cluster_state:ok in time");
  } finally {
    for (const client of clients) client.disconnect();
  }
}
