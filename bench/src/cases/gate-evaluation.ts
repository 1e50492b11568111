import { RedisTripEvaluator } from "@mollifier/gate";
import { RateLimiterRedis } from "rate-limiter-flexible";
import type { BenchCase, CaseContext, CaseOutcome, Figure, TargetCheck } from "../bench-case.js";
import { formatMs } from "../format.js";
import { runInterleaved } from "../interleaved-runs.js";
import { type LoadSample, runClosedLoop } from "../load-runner.js";
import { describeCommandsPerCall } from "../redis-info.js";
import { median } from "../statistics.js";
import { ratioAtLeast } from "../target-checks.js";

const IN_FLIGHT_LEVELS = [64, 1] as const;
/** Envs the evaluations rotate over (one key per env on both sides). */
const ENV_COUNT = 64;
/** High enough that no evaluation trips: both sides do their full counting work and admit. */
const NEVER_TRIPS = 1_000_000_000;
const WINDOW_MS = 1_000;

async function compareAt(context: CaseContext, inFlight: number) {
  const evaluatorClient = context.createClient();
  // The evaluator refuses to queue commands on a client that is not connected yet.
  await evaluatorClient.ping();
  const evaluator = new RedisTripEvaluator({
    redis: evaluatorClient,
    tripThreshold: NEVER_TRIPS,
    tripWindowMs: WINDOW_MS,
  });
  const limiterClient = context.createClient();
  const limiter = new RateLimiterRedis({
    storeClient: limiterClient,
    points: NEVER_TRIPS,
    duration: WINDOW_MS / 1000,
    keyPrefix: "bench-rlf",
  });
  const { durationMs } = context.settings;
  const evaluate = async (sequence: number) => {
    const evaluation = await evaluator.evaluate({
      orgId: `org_${sequence % ENV_COUNT}`,
      envId: "env_prod",
      now: Date.now(),
    });
    if (evaluation.tripped) throw new Error(`the evaluator tripped: ${evaluation.outcome}`);
  };
  const consume = (sequence: number) => limiter.consume(`org_${sequence % ENV_COUNT}:env_prod`, 1);

  const samples = await runInterleaved<LoadSample>(context, `gate ${inFlight} in flight`, [
    {
      name: "mollifier",
      run: () =>
        runClosedLoop({
          inFlight,
          durationMs,
          operation: evaluate,
        }),
    },
    {
      name: "rate-limiter-flexible",
      run: () =>
        runClosedLoop({
          inFlight,
          durationMs,
          operation: consume,
        }),
    },
  ]);
  // After the measured runs, so both sides are warm.
  const admin = context.createClient();
  const commands = {
    mollifier: await describeCommandsPerCall(admin, 1_000, evaluate),
    peer: await describeCommandsPerCall(admin, 1_000, consume),
  };
  await context.flush();
  return { samples, commands };
}

export const gateEvaluationCase: BenchCase = {
  name: "gate",
  title:
    "gate trip evaluation (RedisTripEvaluator.evaluate) vs rate-limiter-flexible RateLimiterRedis.consume",
  async run(context): Promise<CaseOutcome> {
    const figures: Figure[] = [];
    const checks: TargetCheck[] = [];
    const commandNotes: string[] = [];
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const { samples, commands } = await compareAt(context, inFlight);
      if (inFlight === 1) {
        commandNotes.push(
          `Per evaluate: ${commands.mollifier}. Per consume: ${commands.peer}. (INFO commandstats over 1,000 sequential calls; commands inside scripts included.)`,
        );
      }
      const ours = samples.get("mollifier") ?? [];
      const peer = samples.get("rate-limiter-flexible") ?? [];
      const oursRate = median(ours.map((s) => s.itemsPerSecond));
      const peerRate = median(peer.map((s) => s.itemsPerSecond));
      const oursP99 = median(ours.map((s) => s.p99Ms));
      const peerP99 = median(peer.map((s) => s.p99Ms));
      figures.push(
        {
          label: `evaluate throughput, ${inFlight} in flight`,
          value: oursRate,
          unit: "evaluations/s",
          runs: ours.map((s) => s.itemsPerSecond),
        },
        {
          label: `evaluate p50, ${inFlight} in flight`,
          value: median(ours.map((s) => s.p50Ms)),
          unit: "ms",
          runs: ours.map((s) => s.p50Ms),
        },
        {
          label: `evaluate p99, ${inFlight} in flight`,
          value: oursP99,
          unit: "ms",
          runs: ours.map((s) => s.p99Ms),
        },
        {
          label: `consume throughput, ${inFlight} in flight`,
          value: peerRate,
          unit: "calls/s",
          runs: peer.map((s) => s.itemsPerSecond),
        },
        {
          label: `consume p50, ${inFlight} in flight`,
          value: median(peer.map((s) => s.p50Ms)),
          unit: "ms",
          runs: peer.map((s) => s.p50Ms),
        },
        {
          label: `consume p99, ${inFlight} in flight`,
          value: peerP99,
          unit: "ms",
          runs: peer.map((s) => s.p99Ms),
        },
      );
      checks.push(
        ratioAtLeast(`evaluate vs consume throughput, ${inFlight} in flight`, oursRate, peerRate, 1, "/s"),
        {
          label: `evaluate p99 vs consume p99, ${inFlight} in flight`,
          target: "≤ peer's p99",
          measured: `${formatMs(oursP99)} vs ${formatMs(peerP99)} (${(oursP99 / peerP99).toFixed(2)}x)`,
          pass: oursP99 <= peerP99,
        },
      );
    }
    return {
      figures,
      checks,
      notes: [
        `Both sides count one event per call against one of ${ENV_COUNT} env keys (rotating), with a ${WINDOW_MS} ms window and a limit no call reaches, so every call does its full work and admits.`,
        "The evaluator's call also reads the env's backlog from the buffer's depth hash (the sticky-while-backlogged check) and keeps a sliding window of 20 sub-buckets; rate-limiter-flexible keeps a fixed-window counter.",
        ...commandNotes,
      ],
    };
  },
};
