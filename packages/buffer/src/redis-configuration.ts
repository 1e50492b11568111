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
}

/** What `checkRedisConfiguration` answers. `policy` is `"unknown"` when `CONFIG GET` is not allowed. */
export type RedisConfigurationCheck = { outcome: "ok" } | { outcome: "warned"; policy: string };

async function policyOf(node: BufferContext["redis"]): Promise<string> {
  try {
    const reply = await node.config("GET", "maxmemory-policy");
    const value = Array.isArray(reply) ? reply[1] : undefined;
    return typeof value === "string" ? value : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Checks that every master runs with `maxmemory-policy noeviction`, so a
 * buffered trigger can never be evicted. Call it once at start.
 */
export async function checkRedisConfiguration(
  context: BufferContext,
  options: RedisConfigurationCheckOptions = {},
): Promise<RedisConfigurationCheck> {
  const nodes = "nodes" in context.redis ? context.redis.nodes("master") : [context.redis];
  const policies = await Promise.all(nodes.map(policyOf));
  const bad = policies.find((policy) => policy !== "noeviction");
  if (bad === undefined) return { outcome: "ok" };
  if (options.onEvictionPolicy === "refuse") {
    throw new BufferConfigurationError(
      "EVICTION_POLICY",
      `Redis maxmemory-policy is ${bad}; the buffer needs noeviction so buffered triggers are never evicted`,
    );
  }
  return { outcome: "warned", policy: bad };
}
