import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { chaosMarkdown } from "./chaos-report.js";
import { runScenario, type ScenarioResult, type ScenarioSize } from "./run-scenario.js";
import { SCENARIOS, scenario } from "./scenarios.js";

const RESULTS_DIRECTORY = resolve(import.meta.dirname, "../../bench/results");

/** `pnpm chaos`: every scenario at full size (outages of 10 s and 60 s), written to bench/results/chaos.{json,md}. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scenario: { type: "string", multiple: true }, rate: { type: "string", default: "300" } },
  });
  const rate = Number(values.rate);
  if (!Number.isInteger(rate) || rate < 1 || rate > 5_000)
    throw new Error("--rate must be an integer in 1..5000");
  const chosen = values.scenario?.map(scenario) ?? SCENARIOS;
  const runs: Array<[string, ScenarioSize]> = chosen.flatMap((entry) => {
    const size = (outageMs: number): ScenarioSize => ({
      ratePerSecond: rate,
      loadMs: Math.max(20_000, outageMs + 15_000),
      faultAfterMs: 4_000,
      outageMs,
      drainTimeoutMs: 180_000,
    });
    return entry.name === "db-outage"
      ? [
          [entry.name, size(10_000)],
          [entry.name, size(60_000)],
        ]
      : [[entry.name, size(entry.name === "db-connections-terminated" ? 0 : 3_000)]];
  });
  const results: ScenarioResult[] = [];
  for (const [name, size] of runs) {
    process.stdout.write(`chaos: ${name} (${size.outageMs / 1_000} s) … `);
    const result = await runScenario(scenario(name), size);
    results.push(result);
    console.log(
      `lost ${result.lost}, duplicated ${result.duplicated}, failed ${result.failed}, crashes ${result.crashes.length}`,
    );
  }
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const generatedAt = new Date().toISOString();
  writeFileSync(
    resolve(RESULTS_DIRECTORY, "chaos.json"),
    `${JSON.stringify({ generatedAt, results }, null, 2)}\n`,
  );
  writeFileSync(resolve(RESULTS_DIRECTORY, "chaos.md"), chaosMarkdown(results, generatedAt));
  const failedRuns = results.filter((r) => r.lost + r.duplicated + r.failed + r.crashes.length > 0);
  console.log(
    `chaos: ${results.length - failedRuns.length} of ${results.length} scenarios held; report in bench/results/chaos.md`,
  );
  if (failedRuns.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
