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

/** Microseconds Redis spent in `EVALSHA` and `EVAL` calls, from `INFO commandstats`. */
export async function scriptMicroseconds(redis: Redis): Promise<number> {
  const stats = await redis.info("commandstats");
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)) {
    total += Number(match[1]);
  }
  return total;
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

/**
 * Runs `operation` `count` times (one at a time) and describes the client CPU
 * and the Redis commands it cost per call, e.g. `12 µs of bench-process CPU and
 * 2.00 Redis commands per call (evalsha 1.00, hmget 1.00)`.
 * Commands run inside scripts are counted too, which shows each side's server-side work.
 */
export async function describeCommandsPerCall(
  admin: Redis,
  count: number,
  operation: (sequence: number) => Promise<unknown>,
): Promise<string> {
  const before = await commandCalls(admin);
  const scriptBefore = await scriptMicroseconds(admin);
  const cpu = process.cpuUsage();
  for (let sequence = 0; sequence < count; sequence++) await operation(sequence);
  const used = process.cpuUsage(cpu);
  const scriptTime = (await scriptMicroseconds(admin)) - scriptBefore;
  const delta = [...commandsBetween(before, await commandCalls(admin))].sort((a, b) => b[1] - a[1]);
  const total = delta.reduce((sum, [, calls]) => sum + calls, 0);
  const parts = delta.map(([command, calls]) => `${command} ${(calls / count).toFixed(2)}`).join(", ");
  const cpuMicroseconds = (used.user + used.system) / count;
  return `${cpuMicroseconds.toFixed(0)} µs of bench-process CPU, ${(scriptTime / count).toFixed(1)} µs of Redis script time and ${(total / count).toFixed(2)} Redis commands per call (${parts})`;
}
