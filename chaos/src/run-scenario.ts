import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
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
  /** Runs the drainers wrote per org while the fault was in force. */
  readonly drainedDuringFault: Record<string, number>;
  /** Runs written per org per second, from 5 s before the fault to 10 s after it. */
  readonly timeline: {
    readonly faultStartSecond: number;
    readonly faultEndSecond: number;
    readonly perOrg: Record<string, number[]>;
  };
}

async function commandsProcessed(stack: Stack): Promise<number | undefined> {
  const observer = stack.observer;
  const nodes = "nodes" in observer ? observer.nodes("master") : [observer];
  try {
    let total = 0;
    for (const node of nodes) {
      const match = /total_commands_processed:(\d+)/.exec(await node.info("stats"));
      if (!match) return undefined;
      total += Number(match[1]);
    }
    return total;
  } catch {
    return undefined;
  }
}

const FAULT_LEAD_SECONDS = 5;
const FAULT_TAIL_SECONDS = 10;

// Runs the drainers wrote per org and second (the database's `written_at`), around the fault.
async function drainTimeline(
  databaseUrl: string,
  window: { startedAt: number; endedAt: number },
): Promise<ScenarioResult["timeline"]> {
  const faultStartSecond = Math.floor(window.startedAt / 1_000);
  const faultEndSecond = Math.floor(window.endedAt / 1_000);
  const first = faultStartSecond - FAULT_LEAD_SECONDS;
  const seconds = faultEndSecond + FAULT_TAIL_SECONDS - first + 1;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ org_id: string; second: string; count: string }>(
      `SELECT org_id, (written_at / 1000)::bigint AS second, count(*) AS count FROM runs
        WHERE source = 'drainer' AND written_at >= $1 AND written_at < $2 GROUP BY 1, 2`,
      [first * 1_000, (first + seconds) * 1_000],
    );
    const perOrg: Record<string, number[]> = {};
    for (const row of result.rows) {
      const series = perOrg[row.org_id] ?? Array.from({ length: seconds }, () => 0);
      series[Number(row.second) - first] = Number(row.count);
      perOrg[row.org_id] = series;
    }
    return { faultStartSecond, faultEndSecond, perOrg };
  } finally {
    await client.end();
  }
}

/** Starts a fresh stack, sends the load, injects the fault, waits for the drain and checks the database. */
export async function runScenario(scenario: Scenario, size: ScenarioSize, seed = 1): Promise<ScenarioResult> {
  const stack = await startStack({ ...size.stack, ...scenario.stack });
  try {
    let during: number | null = null;
    const window = { startedAt: 0, endedAt: 0 };
    const fault = (async () => {
      await sleep(size.faultAfterMs);
      const before = await commandsProcessed(stack);
      const startedAt = Date.now();
      window.startedAt = startedAt;
      await scenario.inject(stack, size.outageMs);
      window.endedAt = Date.now();
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
      bufferDepth: () => stack.bufferDepth(),
      timeoutMs: size.drainTimeoutMs,
    });
    const timeline = await drainTimeline(stack.databaseUrl, window);
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
      drainedDuringFault: Object.fromEntries(
        Object.entries(timeline.perOrg).map(([org, perSecond]) => [
          org,
          perSecond
            .slice(
              FAULT_LEAD_SECONDS,
              FAULT_LEAD_SECONDS + timeline.faultEndSecond - timeline.faultStartSecond + 1,
            )
            .reduce((sum, count) => sum + count, 0),
        ]),
      ),
      timeline,
    };
  } finally {
    await stack.dispose();
  }
}
