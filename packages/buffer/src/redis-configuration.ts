import type { Cluster, Redis } from "ioredis";
import type { BufferContext } from "./buffer-options.js";
import { BufferConfigurationError } from "./errors.js";

/** What `checkRedisConfiguration` takes. */
export interface RedisConfigurationCheckOptions {
  /**
   * What to do when a node's `maxmemory-policy` is not `noeviction` (Redis
   * could evict buffered triggers): answer `warned`, or throw
   * {@link BufferConfigurationError} (`EVICTION_POLICY`).
   * @default "warn"
   */
  onEvictionPolicy?: "warn" | "refuse";
  /**
   * How long to wait for a Redis Cluster client that is still connecting to
   * learn the cluster's nodes before checking them; past it the check throws
   * {@link BufferConfigurationError} (`CLUSTER_NOT_READY`) rather than answer
   * for nodes it could not see.
   * @default 10_000
   */
  clusterReadyTimeoutMs?: number;
}

/** Default of {@link RedisConfigurationCheckOptions.clusterReadyTimeoutMs}. */
export const DEFAULT_CLUSTER_READY_TIMEOUT_MS = 10_000;

/**
 * What `checkRedisConfiguration` answers: `policy` is the first unsafe policy found (`"unknown"`
 * when `CONFIG GET` is not allowed) and `node` the `host:port` that runs it.
 */
export type RedisConfigurationCheck = { outcome: "ok" } | { outcome: "warned"; policy: string; node: string };

async function policyOf(node: Redis): Promise<string> {
  try {
    const reply = await node.config("GET", "maxmemory-policy");
    const value = Array.isArray(reply) ? reply[1] : undefined;
    return typeof value === "string" ? value : "unknown";
  } catch {
    return "unknown";
  }
}

function nameOf(node: Redis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}

// A cluster client lists its nodes only once it has read the slot map; before that
// `nodes()` is empty and a check of "every node" would check none.
async function clusterReady(cluster: Cluster, timeoutMs: number): Promise<void> {
  if (cluster.status === "ready") return;
  if (cluster.status === "wait") cluster.connect().catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cluster.off("ready", onReady);
      reject(
        new BufferConfigurationError(
          "CLUSTER_NOT_READY",
          `the Redis Cluster client was not ready within ${timeoutMs} ms (status ${cluster.status}); its nodes could not be checked`,
        ),
      );
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    cluster.once("ready", onReady);
  });
}

/**
 * Checks that every node (on a cluster: every master and every replica, which
 * becomes a master on failover) runs with `maxmemory-policy noeviction`, so a
 * buffered trigger can never be evicted. Call it once at start; on a cluster
 * client that is still connecting it first waits for the cluster to be ready.
 */
export async function checkRedisConfiguration(
  context: BufferContext,
  options: RedisConfigurationCheckOptions = {},
): Promise<RedisConfigurationCheck> {
  const client = context.redis;
  let nodes: Redis[];
  if ("nodes" in client) {
    const cluster = client;
    await clusterReady(cluster, options.clusterReadyTimeoutMs ?? DEFAULT_CLUSTER_READY_TIMEOUT_MS);
    nodes = cluster.nodes("all");
  } else {
    nodes = [client];
  }
  const policies = await Promise.all(nodes.map(policyOf));
  const index = policies.findIndex((policy) => policy !== "noeviction");
  const node = nodes[index];
  const policy = policies[index];
  if (node === undefined || policy === undefined) return { outcome: "ok" };
  if (options.onEvictionPolicy === "refuse") {
    throw new BufferConfigurationError(
      "EVICTION_POLICY",
      `Redis maxmemory-policy is ${policy} on ${nameOf(node)}; the buffer needs noeviction so buffered triggers are never evicted`,
    );
  }
  return { outcome: "warned", policy, node: nameOf(node) };
}
