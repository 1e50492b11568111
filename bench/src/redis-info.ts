import type { Redis } from "ioredis";

/** `used_memory` in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const memory = await redis.info("memory");
  const match = /used_memory:(\d+)/.exec(memory);
  if (match?.[1] === undefined) throw new Error("INFO memory has no used_memory");
  return Number(match[1]);
}

/** Calls per command from `INFO commandstats`, e.g. `{ evalsha: 12, get: 3 }`. */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const stats = await redis.info("commandstats");
  const calls = new Map<string, number>();
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, command, count] = match;
    if (command !== undefined && count !== undefined) calls.set(command, Number(count));
  }
  return calls;
}

/**
 * Commands that ran between two {@link commandCalls} snapshots, leaving out
 * `info` (the snapshots themselves) and anything in `ignore`.
 */
export function commandsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
  ignore: readonly string[] = [],
): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [command, count] of after) {
    if (command === "info" || ignore.includes(command)) continue;
    const difference = count - (before.get(command) ?? 0);
    if (difference > 0) delta.set(command, difference);
  }
  return delta;
}
