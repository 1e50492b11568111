import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type Cluster, Redis } from "ioredis";
import {
  freeClusterPort,
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  startRedisServer,
} from "./redis-server.js";

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

/** A real Redis Cluster on loopback, owned by the test kit. */
export interface RedisClusterProcess {
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  /** Each node's server, in `nodes` order, to stop (a master going down) and start again. */
  readonly servers: readonly RedisServerProcess[];
  dispose(): Promise<void>;
}

/** What {@link startRedisCluster} takes besides the master count. */
export interface StartRedisClusterOptions {
  /** @default 3 */
  readonly masters?: number;
  /** Replicas per master (a replica is promoted when its master fails). @default 0 */
  readonly replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a silent master takes to be marked failed, ms. @default 5000 */
  readonly nodeTimeoutMs?: number;
  /**
   * Whether the whole cluster refuses commands while any slot has no master
   * (`cluster-require-full-coverage`); `false` keeps the healthy masters serving.
   * @default true
   */
  readonly requireFullCoverage?: boolean;
}

/**
 * Starts `redis-server --cluster-enabled yes` processes, joins them with
 * `redis-cli --cluster create` (16384 slots over the masters, three and no
 * replicas by default) and waits until every node reports `cluster_state:ok`
 * and every replica has synced with its master: a replica that never synced
 * does not take over when its master dies, so a failover test would wait for
 * ever on a slow machine.
 */
export async function startRedisCluster(
  options: number | StartRedisClusterOptions = {},
): Promise<RedisClusterProcess> {
  const settings = typeof options === "number" ? { masters: options } : options;
  const masters = settings.masters ?? 3;
  const replicas = settings.replicasPerMaster ?? 0;
  if (!hasRedisServerBinary()) {
    throw new Error(noRedisMessage("a Redis Cluster needs redis-server and redis-cli on the PATH"));
  }
  const servers: RedisServerProcess[] = [];
  try {
    for (let index = 0; index < masters * (1 + replicas); index++) {
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
            String(settings.nodeTimeoutMs ?? 5000),
            "--cluster-require-full-coverage",
            settings.requireFullCoverage === false ? "no" : "yes",
          ],
        }),
      );
    }
    await execFileAsync("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((server) => `${server.host}:${server.port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    await waitForClusterOk(servers);
  } catch (error) {
    await Promise.all(servers.map((server) => server.dispose()));
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: server.host, port: server.port })),
    servers,
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
      if (slotsOk && (await replicasInSync(clients))) return;
      await sleep(50);
    }
    throw new Error("the Redis Cluster did not reach cluster_state:ok with every replica synced in time");
  } finally {
    for (const client of clients) client.disconnect();
  }
}

// Every replica's link to its master is up and its initial sync is done.
async function replicasInSync(clients: readonly Redis[]): Promise<boolean> {
  const infos = await Promise.all(clients.map((client) => client.info("replication")));
  return infos.every(
    (info) =>
      !info.includes("role:slave") ||
      (info.includes("master_link_status:up") && info.includes("master_sync_in_progress:0")),
  );
}

/** The port of the master that serves `key`'s slot now, as `client`'s cluster reports it. */
export async function slotOwnerPort(client: Cluster, key: string): Promise<number> {
  const slot = await client.cluster("KEYSLOT", key);
  const ranges = await client.cluster("SLOTS");
  const master = ranges.find(([start, end]) => slot >= start && slot <= end)?.[2];
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return master[1];
}

/** A server holding every client's commands (`CLIENT PAUSE … ALL`) until `over` resolves. */
export interface HeldServer {
  /** Resolves when the pause has ended. */
  readonly over: Promise<void>;
  /** Whether the pause has ended. */
  isOver(): boolean;
}

/**
 * Makes the server at `host:port` hold every command for `ms` without answering, as a master
 * that died looks to a cluster client until the client gives up on it or a replica takes over.
 */
export async function holdServer(server: { host: string; port: number }, ms: number): Promise<HeldServer> {
  const admin = new Redis(server.port, server.host);
  let ended = false;
  try {
    await admin.call("CLIENT", "PAUSE", String(ms), "ALL");
  } catch (error) {
    admin.disconnect();
    throw error;
  }
  const over = sleep(ms).then(() => {
    ended = true;
    admin.disconnect();
  });
  return { over, isOver: () => ended };
}
