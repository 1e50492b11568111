import type { BenchResults } from "./bench-results.js";
import { formatBytes, formatNumber } from "./format.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function formatFigure(value: number, unit: string): string {
  if (unit === "bytes") return formatBytes(value);
  return `${formatNumber(value)} ${unit}`;
}

/** Renders the results as the Markdown report next to `latest.json`. */
export function renderMarkdownReport(results: BenchResults, chartFile: string | undefined): string {
  const lines: string[] = [];
  const { machine, versions, settings } = results;
  lines.push("# Mollifier benchmarks", "");
  lines.push(
    `Generated ${results.generatedAt} by \`pnpm bench\`${results.kind === "full" ? " (complete run of every case)" : " (partial run: not the reference figures)"}, in ${(results.durationMs / 60_000).toFixed(1)} min.`,
    "",
  );
  lines.push(
    `Every figure is the median of ${settings.runs} measured runs after ${settings.warmups} warm-up run(s)${settings.quick ? " (**--quick** smoke settings)" : ""}; every ratio compares two figures measured in this run, on the same Redis, interleaving the two sides run by run.`,
    "",
  );
  lines.push(
    "> **Machine load caveat.** This machine has " +
      `${machine.cores} cores shared with other engineers' builds and tests; the 1-minute load average was ` +
      `${machine.loadAverageAtStart.toFixed(2)} at the start and ${machine.loadAverageAtEnd?.toFixed(2) ?? "?"} at the end of the run. ` +
      "Both sides of every comparison ran interleaved under the same load, so ratios are more trustworthy than absolute figures, " +
      "but noisy neighbours widen p99s and can move ratios by several percent.",
    "",
  );
  if (results.buildWarning !== undefined) {
    lines.push(
      `> **Build warning.** Building the workspace packages failed; the run measured the \`dist\` output already there:\n> \`${cell(results.buildWarning.split("\n").at(-1) ?? "")}\``,
      "",
    );
  }

  const checks = results.cases.flatMap((report) => (report.checks ?? []).map((check) => ({ report, check })));
  lines.push("## Targets", "", "| case | target | required | measured | result |", "|---|---|---|---|---|");
  for (const { report, check } of checks) {
    lines.push(
      `| ${report.name} | ${cell(check.label)} | ${cell(check.target)} | ${cell(check.measured)} | ${check.pass ? "PASS" : "**GAP**"} |`,
    );
  }
  for (const report of results.cases.filter((candidate) => candidate.status !== "ran")) {
    lines.push(
      `| ${report.name} | ${cell(report.title)} | — | ${report.status === "not_run" ? "not run" : "failed"}: ${cell(report.reason ?? "")} | **${report.status === "not_run" ? "NOT RUN" : "FAILED"}** |`,
    );
  }
  lines.push("");

  const gaps = checks.filter(({ check }) => !check.pass);
  const missing = results.cases.filter((report) => report.status !== "ran");
  if (gaps.length > 0 || missing.length > 0) {
    lines.push("## Gaps", "");
    for (const { report, check } of gaps) {
      lines.push(
        `- **${report.name} — ${check.label}:** target ${check.target}, measured ${check.measured}. The target is missed.`,
      );
    }
    for (const report of missing) {
      lines.push(
        `- **${report.name}:** ${report.status === "not_run" ? "not run" : "failed"} — ${report.reason ?? "no reason recorded"}.`,
      );
    }
    lines.push(
      "",
      "Each case's notes below give the client CPU, Redis script time and Redis commands per call of both sides, which show where a gap comes from.",
      "",
    );
  } else {
    lines.push("Every target above is met in this run.", "");
  }

  lines.push("## Cases", "");
  for (const report of results.cases) {
    lines.push(`### ${report.name} — ${report.title}`, "");
    if (report.status !== "ran") {
      lines.push(`**${report.status === "not_run" ? "Not run" : "Failed"}:** ${report.reason ?? ""}`, "");
      continue;
    }
    if ((report.figures ?? []).length > 0) {
      lines.push("| figure | median | runs |", "|---|---|---|");
      for (const figure of report.figures ?? []) {
        const runs = figure.runs?.map((value) => formatNumber(value)).join(", ") ?? "";
        lines.push(`| ${cell(figure.label)} | ${formatFigure(figure.value, figure.unit)} | ${runs} |`);
      }
      lines.push("");
    }
    for (const note of report.notes ?? []) lines.push(`- ${note}`);
    if (report.timeline !== undefined && chartFile !== undefined) {
      lines.push("", `![burst timeline](${chartFile})`);
    }
    lines.push("", `_Case time: ${(report.durationMs / 1000).toFixed(1)} s._`, "");
  }

  lines.push("## Machine and versions", "");
  lines.push("| item | value |", "|---|---|");
  lines.push(`| CPU | ${cell(machine.cpuModel)} |`);
  lines.push(`| cores | ${machine.cores} |`);
  lines.push(`| memory | ${formatBytes(machine.memoryBytes)} |`);
  lines.push(`| platform | ${cell(machine.platform)} |`);
  lines.push(
    `| load average (1 min) | ${machine.loadAverageAtStart.toFixed(2)} at start, ${machine.loadAverageAtEnd?.toFixed(2) ?? "?"} at end |`,
  );
  lines.push(`| node | ${versions.node} |`);
  lines.push(`| redis-server | ${versions.redis} |`);
  lines.push(`| redis-benchmark | ${cell(versions.redisBenchmark)} |`);
  lines.push(
    `| git commit | ${versions.gitCommit}${versions.uncommittedPackageFiles > 0 ? ` plus ${versions.uncommittedPackageFiles} uncommitted file(s) under packages/ and apps/ (the build measures the working tree)` : ""} |`,
  );
  for (const [name, version] of Object.entries(versions.packages)) {
    lines.push(`| ${name} | ${version} |`);
  }
  lines.push("");
  return `${lines.join("\n")}\n`;
}
