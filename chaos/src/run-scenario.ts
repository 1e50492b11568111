import { setTimeout as sleep } from "node:timers/promises";
import type { Scenario } from "./scenarios.js";
import { type Stack, type StackOptions, startStack } from "./stack.js";
import { seededRandom, sendTriggerLoad } from "./trigger-load.js";
import { verifyRuns } from "./verify-runs.js";

/** The size of one scenario run. */
export interface ScenarioSize {
  readonly ratePerSecond: number;
  readonly loadMs: number;
  readonly faultAfterMs: number;
  readonly outageMs: number;
  /** How long the drain may take after the load and the fault end. */
  readonly drainTimeoutMs: number;
  readonly stack?: StackOptions;
}

/** One row of the chaos report. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly description: string;
  readonly outageMs: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly statusCounts: Record<string, number>;
  readonly lost: number;
  readonly duplicated: number;
  readonly failed: number;
  readonly drained: boolean;
  /** Unexpected process exits (crashes). */
  readonly crashes: string[];
  /** Redis commands per second while the fault was in force (all clients). */
  readonly redisCommandsPerSecondDuringFault: number | null;
  /** Longest time a process took from start to ready in this run, ms. */
  readonly slowestReadyMs: number;
  /** The first few offending run ids, for a failure message. */
  readonly examples: string[];
}

async function commandsProcessed(stack: Stack): Promise<number | undefined> {
  try {
    const info = await stack.observer.info("stats");
    const match = /total_commands_processed:(\d+)/.exec(info);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function bufferDepth(stack: Stack): Promise<number> {
  let total = 0;
  let cursor = "0";
  do {
    const [next, keys] = await stack.observer.scan(cursor, "MATCH", "{mollifier:*}:depth", "COUNT", 1_000);
    cursor = next;
    for (const key of keys) total += Number((await stack.observer.hget(key, "total")) ?? 0);
  } while (cursor !== "0");
  return total;
}

/** Starts a fresh stack, sends the load, injects the fault, waits for the drain and checks the database. */
export async function runScenario(scenario: Scenario, size: ScenarioSize, seed = 1): Promise<ScenarioResult> {
  const stack = await startStack(size.stack);
  try {
    let during: number | null = null;
    const fault = (async () => {
      await sleep(size.faultAfterMs);
      const before = await commandsProcessed(stack);
      const startedAt = Date.now();
      await scenario.inject(stack, size.outageMs);
      const seconds = (Date.now() - startedAt) / 1_000;
      const after = await commandsProcessed(stack);
      // A restarted Redis counts from zero again; a short fault is no rate.
      if (before !== undefined && after !== undefined && after >= before && seconds >= 1) {
        during = Math.round((after - before) / seconds);
      }
    })();
    const load = await sendTriggerLoad({
      baseUrl: stack.baseUrl,
      ratePerSecond: size.ratePerSecond,
      durationMs: size.loadMs,
      random: seededRandom(seed),
    });
    await fault;
    const verdict = await verifyRuns({
      databaseUrl: stack.databaseUrl,
      baseUrl: stack.baseUrl,
      acknowledged: load.acknowledged,
      bufferDepth: () => bufferDepth(stack),
      timeoutMs: size.drainTimeoutMs,
    });
    return {
      scenario: scenario.name,
      description: scenario.description,
      outageMs: size.outageMs,
      sent: load.sent,
      acknowledged: verdict.acknowledged,
      statusCounts: load.statusCounts,
      lost: verdict.lost.length,
      duplicated: verdict.duplicated.length,
      failed: verdict.failed.length,
      drained: verdict.drained,
      crashes: stack.crashes(),
      redisCommandsPerSecondDuringFault: during,
      slowestReadyMs: Math.max(
        stack.app.lastReadyMs,
        ...stack.drainers.map((drainer) => drainer.lastReadyMs),
      ),
      examples: [...verdict.lost, ...verdict.duplicated, ...verdict.failed].slice(0, 5),
    };
  } finally {
    await stack.dispose();
  }
}
