import type { ScenarioResult } from "./run-scenario.js";

/** The chaos results as a Markdown table, one row per scenario, with the verdict first. */
export function chaosMarkdown(results: readonly ScenarioResult[], generatedAt: string): string {
  const rows = results.map((result) => {
    const ok =
      result.lost === 0 && result.duplicated === 0 && result.failed === 0 && result.crashes.length === 0;
    const refused = Object.entries(result.statusCounts)
      .filter(([status]) => status !== "200" && status !== "201")
      .map(([status, count]) => `${status}×${count}`)
      .join(" ");
    return [
      ok ? "pass" : "**FAIL**",
      `\`${result.scenario}\``,
      result.outageMs > 0 ? `${result.outageMs / 1_000} s` : "—",
      result.sent,
      result.acknowledged,
      refused || "—",
      result.lost,
      result.duplicated,
      result.failed,
      result.crashes.length === 0 ? "none" : result.crashes.join("; "),
      result.redisCommandsPerSecondDuringFault ?? "—",
      result.slowestReadyMs,
    ].join(" | ");
  });
  return [
    "# Chaos results",
    "",
    `Generated ${generatedAt} by \`pnpm chaos\`: real processes (the demo app, two separate drainers,`,
    "Redis with an append-only file fsynced always, a private PostgreSQL server), a skewed burst with",
    "20 % keyed triggers from a small key pool, and one fault per row. Each run is checked against the",
    "database after the drain: acknowledged run ids without a row (lost), idempotency keys answered",
    "with more than one run (duplicated), acknowledged runs that ended failed, and process exits.",
    "`acknowledged` counts distinct run ids (keyed triggers answered with an existing run count once);",
    "`not acknowledged` are answers that promised nothing (`refused`: no HTTP answer while the app was",
    "down; 503 with `Retry-After`). Redis commands per second during the fault count every client; in",
    "a database outage they are the offered triggers being buffered, since the drainers send nothing",
    "while their circuit is open. Database calls during an outage are bounded the same way: each",
    "drainer sends one probe per open period (1 s, doubling to 15 s), and the app tries the database",
    "once per under-budget trigger before failing over to the buffer (no retry loop).",
    "Slowest ready: the longest time a process took from start to ready.",
    "",
    "| verdict | scenario | outage | sent | acknowledged | not acknowledged | lost | duplicated | failed | crashes | Redis cmd/s during fault | slowest ready (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    ...results.filter((result) => result.scenario === "cluster-master-killed").flatMap(timelineSection),
  ].join("\n");
}

// Runs drained per org and second around the fault, to show which orgs the failover stops.
function timelineSection(result: ScenarioResult): string[] {
  const { faultStartSecond, faultEndSecond, perOrg } = result.timeline;
  const orgs = Object.keys(perOrg).sort();
  const length = Math.max(0, ...orgs.map((org) => perOrg[org]?.length ?? 0));
  const first = faultStartSecond - 5;
  const header = Array.from({ length }, (_, index) => {
    const second = first + index;
    const offset = second - faultStartSecond;
    return second >= faultStartSecond && second <= faultEndSecond ? `**${offset}**` : String(offset);
  });
  return [
    `## \`${result.scenario}\`: runs drained per org and second`,
    "",
    `Seconds from the kill; **bold** while the killed master's shards had no master (${faultEndSecond - faultStartSecond + 1} s).`,
    `Drained during the failover: ${orgs.map((org) => `${org} ${result.drainedDuringFault[org] ?? 0}`).join(", ")}.`,
    "",
    `| org | ${header.join(" | ")} |`,
    `|---|${header.map(() => "---").join("|")}|`,
    ...orgs.map((org) => `| ${org} | ${(perOrg[org] ?? []).join(" | ")} |`),
    "",
  ];
}
