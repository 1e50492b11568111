import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { sendBurst } from "../app/burst/burst-generator";
import { BURST_DEFAULTS, BurstOptionError, parseBurstOptions, rateWarning } from "../app/burst/burst-options";
import { type BurstReport, finishBurst } from "../app/burst/burst-report";
import { loadConfig } from "../app/config.server";
import { SEEDED_ENVIRONMENTS } from "../app/engine/seed.server";
import { bootstrap } from "../server/bootstrap";
import { createHttpServer, loadServerBuild } from "../server/http-server";

const HELP = `pnpm burst [options]   fire a burst of triggers at the demo app and report

  --url <origin>        the app (default http://127.0.0.1:3000; without --url and with no app
                        answering there, an app is started in this process)
  --rate <n>            triggers per second, above 0 to 100000 (default ${BURST_DEFAULTS.rate})
  --duration <s>        seconds of sending, above 0 to 3600 (default ${BURST_DEFAULTS.duration})
  --orgs <n>            orgs to spread over, 1-3 (default ${BURST_DEFAULTS.orgs})
  --envs <n>            envs per org, 1-2 (default ${BURST_DEFAULTS.envs})
  --skew <0..1>         0 spreads evenly; towards 1 most traffic goes to one env (default ${BURST_DEFAULTS.skew})
  --idempotent <0..1>   share of triggers with an idempotency key from a small pool (default ${BURST_DEFAULTS.idempotent})
  --out <file>          where to write the JSON report (default ${BURST_DEFAULTS.out})

  The report gives the rate actually sent next to the rate asked for, and warns when they
  differ by more than 10%. Answers are counted once each: created (written at once),
  mollified (buffered), idempotent hits (an existing run answered its key).`;

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
    ["rate asked / achieved", `${report.requestedRatePerSecond}/s / ${report.achievedRatePerSecond}/s`],
    ["sent", `${report.sent} in ${(report.sendDurationMs / 1_000).toFixed(1)} s`],
    ["accepted (2xx)", String(report.accepted)],
    ["  created (database)", String(report.created)],
    ["  mollified (buffered)", String(report.mollified)],
    ["  idempotent hits", String(report.cached)],
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
  const warning = rateWarning(report.requestedRatePerSecond, report.achievedRatePerSecond);
  if (warning !== undefined) console.log(`\n  warning: ${warning}`);
}

/** A progress line while the buffer drains: on a terminal rewritten in place, else every 2 s. */
function drainProgress(): { poll(depth: number, leases: number): void; done(): void } {
  const started = Date.now();
  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  return {
    poll(depth, leases) {
      const elapsed = ((Date.now() - started) / 1_000).toFixed(1);
      const line = `  draining: ${depth} buffered, ${leases} being written · ${elapsed} s`;
      if (tty) process.stdout.write(`\r${line}\u001b[K`);
      else if (Date.now() - lastPrinted >= 2_000) {
        lastPrinted = Date.now();
        console.log(line);
      }
    },
    done() {
      if (tty) process.stdout.write("\n");
    },
  };
}

async function main(): Promise<void> {
  // `pnpm burst -- --rate 500` hands the script the `--` too; options follow it all the same.
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
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
  const { help: _help, ...flags } = values;
  const options = parseBurstOptions(flags);
  let url = options.url ?? "http://127.0.0.1:3000";
  let stopApp: (() => Promise<void>) | undefined;
  if (!(await answers(url))) {
    if (options.url !== undefined) throw new Error(`no demo app answers at ${url}`);
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
    const rate = options.ratePerSecond;
    const durationMs = options.durationMs;
    const bar = new cliProgress.SingleBar(
      { format: "  sending [{bar}] {value}/{total} triggers · {eta}s left", hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, Math.round((rate * durationMs) / 1_000)), 0);
    const sent = await sendBurst({
      baseUrl: url,
      ratePerSecond: rate,
      durationMs,
      orgs: options.orgs,
      envsPerOrg: options.envsPerOrg,
      skew: options.skew,
      idempotentShare: options.idempotentShare,
      tenants: SEEDED_ENVIRONMENTS,
      onProgress: (done) => bar.update(done),
    });
    bar.stop();
    console.log(
      `  sent ${sent.sent} at ${sent.achievedRatePerSecond}/s (asked ${rate}/s); waiting for the buffer to drain…`,
    );
    const progress = drainProgress();
    const report = await finishBurst(url, sent, {
      onPoll: (stats) => progress.poll(stats.current.depth, stats.current.leasesInFlight),
    });
    progress.done();
    printReport(report);
    const out = resolve(options.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\n  report written to ${out}`);
    if (report.runsLost > 0 || report.runsDuplicated > 0) process.exitCode = 2;
  } finally {
    await stopApp?.();
  }
}

main().catch((error: unknown) => {
  if (error instanceof BurstOptionError) {
    console.error(`${error.message}\n\n${HELP}`);
    process.exit(64);
  }
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
