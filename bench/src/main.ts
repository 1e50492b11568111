import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startRedisServer } from "@mollifier/testing/servers";
import { Redis, type RedisOptions } from "ioredis";
import type { BenchSettings, CaseContext, CaseReport } from "./bench-case.js";
import { CaseNotRunError } from "./bench-case.js";
import type { BenchResults } from "./bench-results.js";
import { renderBurstChartSvg } from "./burst-chart.js";
import { benchCases } from "./case-registry.js";
import { parseCliArguments, USAGE } from "./cli-arguments.js";
import { machineInfo, versionInfo } from "./environment-info.js";
import { renderMarkdownReport } from "./report-markdown.js";
import { buildWorkspacePackages } from "./workspace-build.js";

const FULL_SETTINGS: BenchSettings = { quick: false, runs: 5, warmups: 1, durationMs: 1_000 };
const QUICK_SETTINGS: BenchSettings = { quick: true, runs: 2, warmups: 1, durationMs: 400 };

const resultsDirectory = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<number> {
  const cli = parseCliArguments(process.argv.slice(2));
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  if (cli.list) {
    for (const benchCase of benchCases) console.log(`${benchCase.name.padEnd(16)} ${benchCase.title}`);
    return 0;
  }
  const unknown = cli.cases.filter((name) => !benchCases.some((benchCase) => benchCase.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown case(s): ${unknown.join(", ")}; --list shows them`);
  }
  const selected = cli.cases.length === 0 ? benchCases : benchCases.filter((c) => cli.cases.includes(c.name));
  const settings = cli.quick ? QUICK_SETTINGS : FULL_SETTINGS;
  const complete = !cli.quick && cli.cases.length === 0;

  let buildWarning: string | undefined;
  if (!cli.skipBuild) {
    log("building the workspace packages the bench measures");
    const filters = ["@mollifier/bench^..."];
    // The burst and http cases drive the demo app, which is not a dependency of the bench.
    if (selected.some((benchCase) => benchCase.name === "burst" || benchCase.name === "http"))
      filters.push("@mollifier/demo-webapp...");
    buildWarning = buildWorkspacePackages(filters);
    if (buildWarning !== undefined) log(`build failed, measuring the existing dist output:\n${buildWarning}`);
  }

  const machine = machineInfo();
  const started = performance.now();
  const server = await startRedisServer();
  log(`redis-server on ${server.host}:${server.port}`);
  const admin = new Redis({ host: server.host, port: server.port });
  const reports: CaseReport[] = [];
  try {
    const versions = await versionInfo(admin);
    for (const benchCase of selected) {
      const clients: Redis[] = [];
      const context: CaseContext = {
        settings,
        redisHost: server.host,
        redisPort: server.port,
        createClient(options?: RedisOptions) {
          const client = new Redis({ host: server.host, port: server.port, ...options });
          clients.push(client);
          return client;
        },
        async flush() {
          await admin.flushall("SYNC");
        },
        log: (message) => log(`${benchCase.name}: ${message}`),
      };
      log(`case ${benchCase.name}: ${benchCase.title}`);
      const caseStarted = performance.now();
      let report: CaseReport;
      try {
        await context.flush();
        const outcome = await benchCase.run(context);
        report = {
          name: benchCase.name,
          title: benchCase.title,
          status: "ran",
          durationMs: performance.now() - caseStarted,
          ...outcome,
        };
      } catch (error) {
        const notRun = error instanceof CaseNotRunError;
        const reason = error instanceof Error ? error.message : String(error);
        if (!notRun) log(`case ${benchCase.name} failed: ${error instanceof Error ? error.stack : reason}`);
        report = {
          name: benchCase.name,
          title: benchCase.title,
          status: notRun ? "not_run" : "failed",
          reason,
          durationMs: performance.now() - caseStarted,
        };
      } finally {
        await Promise.allSettled(clients.map((client) => client.quit()));
        for (const client of clients) client.disconnect();
      }
      reports.push(report);
      for (const check of report.checks ?? []) {
        log(`  ${check.pass ? "PASS" : "GAP "} ${check.label}: ${check.measured} (target ${check.target})`);
      }
      if (report.status !== "ran") log(`  ${report.status.toUpperCase()}: ${report.reason}`);
    }
    machine.loadAverageAtEnd = os.loadavg()[0];
    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      kind: complete ? "full" : "partial",
      settings,
      durationMs: performance.now() - started,
      machine,
      versions,
      ...(buildWarning === undefined ? {} : { buildWarning }),
      cases: reports,
    };
    writeResults(results, complete);
  } finally {
    admin.disconnect();
    await server.dispose();
  }
  return reports.some((report) => report.status === "failed") ? 1 : 0;
}

function writeResults(results: BenchResults, complete: boolean): void {
  mkdirSync(resultsDirectory, { recursive: true });
  const suffix = complete ? "" : ".tmp";
  const base = complete ? "latest" : "partial";
  const timeline = results.cases.find((report) => report.timeline !== undefined)?.timeline;
  const chartFile = timeline === undefined ? undefined : `burst-timeline.svg${suffix}`;
  if (timeline !== undefined && chartFile !== undefined) {
    writeFileSync(
      join(resultsDirectory, chartFile),
      renderBurstChartSvg(timeline, "Burst through the demo app API in mollify mode"),
    );
  }
  writeFileSync(join(resultsDirectory, `${base}.json${suffix}`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(resultsDirectory, `${base}.md${suffix}`), renderMarkdownReport(results, chartFile));
  log(`wrote ${join(resultsDirectory, `${base}.{json,md}${suffix}`)}${chartFile ? ` and ${chartFile}` : ""}`);
}

// Exit through process.exit so the exit handlers stop the spawned redis-server and demo app.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => {
    process.exitCode = code;
    // BullMQ and ioredis can keep timers alive; every client is closed by now.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
