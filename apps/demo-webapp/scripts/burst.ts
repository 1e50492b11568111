import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { sendBurst } from "../app/burst/burst-generator";
import { type BurstReport, finishBurst } from "../app/burst/burst-report";
import { loadConfig } from "../app/config.server";
import { SEEDED_ENVIRONMENTS } from "../app/engine/seed.server";
import { bootstrap } from "../server/bootstrap";
import { createHttpServer, loadServerBuild } from "../server/http-server";

const HELP = `pnpm burst [options]   fire a burst of triggers at the demo app and report

  --url <origin>        the app (default http://127.0.0.1:3000; without --url and with no app
                        answering there, an app is started in this process)
  --rate <n>            triggers per second (default 400)
  --duration <s>        seconds of sending (default 5)
  --orgs <n>            orgs to spread over, 1-3 (default 3)
  --envs <n>            envs per org, 1-2 (default 2)
  --skew <0..1>         0 spreads evenly; towards 1 most traffic goes to one env (default 0.5)
  --idempotent <0..1>   share of triggers with an idempotency key from a small pool (default 0.1)
  --out <file>          where to write the JSON report (default burst-report.json)`;

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/dashboard/stats`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

function printReport(report: BurstReport): void {
  const rows: Array<[string, string]> = [
    ["mode", report.mode],
    ["sent", String(report.sent)],
    ["accepted (2xx)", String(report.accepted)],
    ["mollified (buffered)", String(report.mollified)],
    ["idempotent hits", String(report.cached)],
    ["failed", `${report.failed} ${JSON.stringify(report.statusCounts)}`],
    ["API p50 / p99", `${report.apiP50Ms} ms / ${report.apiP99Ms} ms`],
    ["peak DB writes/s", String(report.peakDbWritesPerSecond)],
    ["max concurrent DB writes", `${report.dbMaxConcurrentWrites} (limit ${report.dbWriteLimit})`],
    ["time to drain", report.timeToDrainMs === null ? "did not drain in time" : `${report.timeToDrainMs} ms`],
    ["runs in database", String(report.runsInDatabase)],
    ["runs lost", String(report.runsLost)],
    ["runs duplicated", String(report.runsDuplicated)],
  ];
  console.log(`\nBurst ${report.burstId}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(26)} ${value}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      orgs: { type: "string" },
      envs: { type: "string" },
      skew: { type: "string" },
      idempotent: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  let url = (values.url ?? "http://127.0.0.1:3000").replace(/\/$/, "");
  let stopApp: (() => Promise<void>) | undefined;
  if (!(await answers(url))) {
    if (values.url !== undefined) throw new Error(`no demo app answers at ${url}`);
    console.log("No app at http://127.0.0.1:3000: starting one in this process…");
    const config = loadConfig({ ...process.env, PORT: "0" });
    const build = await loadServerBuild();
    const started = await bootstrap(config);
    const server = createHttpServer(build, started.services);
    await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    stopApp = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      await started.shutdown();
    };
  }
  try {
    const rate = number(values.rate, 400, "rate");
    const durationMs = number(values.duration, 5, "duration") * 1_000;
    const bar = new cliProgress.SingleBar(
      { format: "  sending [{bar}] {value}/{total} triggers · {eta}s left", hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, Math.round((rate * durationMs) / 1_000)), 0);
    const sent = await sendBurst({
      baseUrl: url,
      ratePerSecond: rate,
      durationMs,
      orgs: number(values.orgs, 3, "orgs"),
      envsPerOrg: number(values.envs, 2, "envs"),
      skew: number(values.skew, 0.5, "skew"),
      idempotentShare: number(values.idempotent, 0.1, "idempotent"),
      tenants: SEEDED_ENVIRONMENTS,
      onProgress: (done) => bar.update(done),
    });
    bar.stop();
    console.log("  waiting for the buffer to drain…");
    const report = await finishBurst(url, sent);
    printReport(report);
    const out = resolve(values.out ?? "burst-report.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\n  report written to ${out}`);
    if (report.runsLost > 0 || report.runsDuplicated > 0) process.exitCode = 2;
  } finally {
    await stopApp?.();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
