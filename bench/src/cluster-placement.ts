import type { Redis } from "ioredis";
import { commandCalls, commandsBetween } from "./redis-info.js";

const SLOT_COUNT = 16_384;
// Bookkeeping a measurement sends itself, or the cluster client's slot-map refresh: not work.
const NOT_WORK = ["cluster", "ping", "flushall", "client", "command", "readonly", "select"];

/** CPU Redis used so far (`INFO cpu`: user + system of the main process and its threads), µs. */
export async function redisCpuMicroseconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const read = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return Math.round((read("used_cpu_sys") + read("used_cpu_user")) * 1_000_000);
}

/** What each node has done so far: commands (from `INFO commandstats`) and CPU. */
export interface NodeCounters {
  readonly calls: Map<string, number>;
  readonly cpuMicroseconds: number;
}

export async function nodeCounters(nodes: readonly Redis[]): Promise<NodeCounters[]> {
  return Promise.all(
    nodes.map(async (node) => ({
      calls: await commandCalls(node),
      cpuMicroseconds: await redisCpuMicroseconds(node),
    })),
  );
}

/** Per node, the commands (of real work) and CPU between two snapshots. */
export function nodeWork(
  before: readonly NodeCounters[],
  after: readonly NodeCounters[],
): Array<{ commands: number; cpuMicroseconds: number }> {
  return after.map((end, index) => {
    const start = before[index];
    if (start === undefined) throw new Error(`no earlier snapshot of node ${index}`);
    let commands = 0;
    for (const [, calls] of commandsBetween(start.calls, end.calls, NOT_WORK)) commands += calls;
    return { commands, cpuMicroseconds: end.cpuMicroseconds - start.cpuMicroseconds };
  });
}

/** The busiest value over the mean: 1.0 is perfectly even. */
export function hottestOverMean(values: readonly number[]): number {
  const total = values.reduce((sum, value) => sum + value, 0);
  return values.length === 0 || total === 0 ? Number.NaN : Math.max(...values) / (total / values.length);
}

/**
 * The slot ranges `redis-cli --cluster create` gives `masters` masters: an
 * even split of the 16,384 slots in node order.
 */
export function evenSlotSplit(masters: number): Array<readonly [number, number]> {
  const perMaster = SLOT_COUNT / masters;
  const ranges: Array<readonly [number, number]> = [];
  let first = 0;
  let cursor = 0;
  for (let index = 0; index < masters; index++) {
    let last = Math.round(cursor + perMaster - 1);
    if (last > SLOT_COUNT - 1 || index === masters - 1) last = SLOT_COUNT - 1;
    if (last < first) last = first;
    ranges.push([first, last]);
    first = last + 1;
    cursor += perMaster;
  }
  return ranges;
}

/** How many of the given slots (one per shard) each master of an even split serves. */
export function shardsPerMaster(shardSlots: readonly number[], masters: number): number[] {
  return evenSlotSplit(masters).map(
    ([first, last]) => shardSlots.filter((slot) => slot >= first && slot <= last).length,
  );
}
