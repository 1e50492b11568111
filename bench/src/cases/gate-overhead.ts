import { evaluateGate, type GateDependencies, parseGateConfig, RedisTripEvaluator } from "@mollifier/gate";
import type { BenchCase, CaseOutcome, Figure, TargetCheck } from "../bench-case.js";
import { formatMs } from "../format.js";
import { commandCalls, commandsBetween } from "../redis-info.js";
import { latencySummary, median } from "../statistics.js";

const CALLS = 200_000;
const QUICK_CALLS = 20_000;

const inputs = { orgId: "org_overhead", envId: "env_prod", taskId: "send-invoice", runId: "run_overhead" };

/** Sequential calls: mean from the total (precise), p50/p99 from per-call timings (include ~50 ns of timer). */
async function timeCalls(calls: number, call: () => Promise<unknown>) {
  const timings = new Float64Array(calls);
  const started = process.hrtime.bigint();
  for (let index = 0; index < calls; index++) {
    const begin = process.hrtime.bigint();
    await call();
    timings[index] = Number(process.hrtime.bigint() - begin) / 1e6;
  }
  const meanMs = Number(process.hrtime.bigint() - started) / 1e6 / calls;
  return { meanMs, ...latencySummary(timings) };
}

export const gateOverheadCase: BenchCase = {
  name: "gate-overhead",
  title: "gate overhead on the hot path: kill switch off, org not enrolled (no Redis command)",
  async run(context): Promise<CaseOutcome> {
    const calls = context.settings.quick ? QUICK_CALLS : CALLS;
    const admin = context.createClient();
    // A real evaluator on a real client: if the cascade called it, commandstats would show it.
    const evaluator = new RedisTripEvaluator({ redis: context.createClient() });
    const scenarios: Array<{ name: string; dependencies: GateDependencies; reason: string }> = [
      {
        name: "kill switch off",
        reason: "kill_switch",
        dependencies: {
          config: parseGateConfig({ enabled: false }),
          resolveEnrollment: () => true,
          evaluator,
        },
      },
      {
        name: "org not enrolled",
        reason: "not_enrolled",
        dependencies: {
          config: parseGateConfig({ enabled: true, shadowMode: false }),
          resolveEnrollment: () => false,
          evaluator,
        },
      },
    ];
    const figures: Figure[] = [];
    const checks: TargetCheck[] = [];
    const notes: string[] = [];
    const noop = async () => undefined;
    const baselineRuns: number[] = [];
    const results = new Map<
      string,
      { mean: number[]; p50: number[]; p99: number[]; commands: Map<string, number> }
    >();
    for (const scenario of scenarios) {
      const decision = await evaluateGate(inputs, scenario.dependencies);
      if (decision.reason !== scenario.reason) {
        throw new Error(`${scenario.name}: the gate answered ${decision.action}/${decision.reason}`);
      }
      results.set(scenario.name, { mean: [], p50: [], p99: [], commands: new Map() });
    }
    const { warmups, runs } = context.settings;
    for (let round = 0; round < warmups + runs; round++) {
      const baseline = await timeCalls(calls, noop);
      if (round >= warmups) baselineRuns.push(baseline.meanMs);
      for (const scenario of scenarios) {
        const before = await commandCalls(admin);
        const timing = await timeCalls(calls, () => evaluateGate(inputs, scenario.dependencies));
        const after = await commandCalls(admin);
        const result = results.get(scenario.name);
        if (result === undefined || round < warmups) continue;
        result.mean.push(timing.meanMs);
        result.p50.push(timing.p50);
        result.p99.push(timing.p99);
        for (const [command, count] of commandsBetween(before, after)) {
          result.commands.set(command, (result.commands.get(command) ?? 0) + count);
        }
      }
    }
    const baselineMs = median(baselineRuns);
    figures.push({
      label: "baseline: await of an empty async function",
      value: baselineMs * 1000,
      unit: "µs",
      runs: baselineRuns.map((v) => v * 1000),
    });
    for (const scenario of scenarios) {
      const result = results.get(scenario.name);
      if (result === undefined) continue;
      const mean = median(result.mean);
      figures.push(
        {
          label: `${scenario.name}: evaluateGate mean`,
          value: mean * 1000,
          unit: "µs",
          runs: result.mean.map((v) => v * 1000),
        },
        {
          label: `${scenario.name}: added time over the baseline`,
          value: (mean - baselineMs) * 1000,
          unit: "µs",
        },
        { label: `${scenario.name}: per-call p50`, value: median(result.p50) * 1000, unit: "µs" },
        { label: `${scenario.name}: per-call p99`, value: median(result.p99) * 1000, unit: "µs" },
      );
      const commands = [...result.commands].map(([command, count]) => `${command}×${count}`).join(", ");
      checks.push({
        label: `${scenario.name}: Redis commands (INFO commandstats)`,
        target: "0 commands",
        measured: `${commands || "0 commands"} over ${(calls * runs).toLocaleString("en-US")} decisions; added ${formatMs(mean - baselineMs)} per decision`,
        pass: result.commands.size === 0,
      });
    }
    notes.push(
      `${calls.toLocaleString("en-US")} sequential evaluateGate calls per run with a real RedisTripEvaluator on a real client and the default no-op recorder; Redis commands counted from INFO commandstats before and after each run (the INFO calls themselves excluded).`,
      "Added time = mean time of one evaluateGate call minus the mean time of awaiting an empty async function in the same loop.",
    );
    return { figures, checks, notes };
  },
};
