import { performance } from "node:perf_hooks";
import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { Drainer } from "@mollifier/drainer";
import type { BenchCase, CaseContext, CaseOutcome } from "../bench-case.js";
import { countingSource, waitUntil } from "../counting-source.js";
import { jsonPayload } from "../payload.js";
import { jainIndex, median } from "../statistics.js";
import { BENCH_TASK_ID } from "../trigger-inputs.js";

const HEAVY_ENTRIES = 100_000;
const QUICK_HEAVY_ENTRIES = 10_000;
const LIGHT_ORGS = 10;
const LIGHT_ENTRIES = 10;
const CONCURRENCY = 50;
const FILL_BATCH = 100;
const PAYLOAD_BYTES = 256;
const DRAIN_TIMEOUT_MS = 300_000;
const HEAVY_ORG = "org_heavy";

interface FairnessRun {
  /** Per light org, ms from start() to the ack of its last entry. */
  readonly lightDrainMs: number[];
  readonly heavyDrainMs: number;
  readonly entriesPerSecond: number;
  /** Jain's index of the orgs' acks from start() until the last light org was drained. */
  readonly jainUntilLightDrained: number;
  /** Entries of the heavy org acked in that window. */
  readonly heavyInWindow: number;
  readonly windowMs: number;
}

async function drainOnce(context: CaseContext, heavyEntries: number): Promise<FairnessRun> {
  await context.flush();
  const client = context.createClient();
  const buffer = new MollifierBuffer({ redis: client });
  const payload = jsonPayload(PAYLOAD_BYTES);
  const input = (orgId: string, runId: string) => ({
    runId,
    orgId,
    envId: "env_prod",
    taskId: BENCH_TASK_ID,
    payload,
    options: {},
  });
  // The heavy org's backlog is buffered first, so it is older than every light entry.
  for (let start = 0; start < heavyEntries; start += FILL_BATCH) {
    const size = Math.min(FILL_BATCH, heavyEntries - start);
    await buffer.acceptBatch(
      Array.from({ length: size }, (_, item) => input(HEAVY_ORG, `heavy_${start + item}`)),
    );
  }
  const lightOrgs = Array.from({ length: LIGHT_ORGS }, (_, index) => `org_light_${index}`);
  for (const org of lightOrgs) {
    await buffer.acceptBatch(
      Array.from({ length: LIGHT_ENTRIES }, (_, item) => input(org, `${org}_${item}`)),
    );
  }

  const demand = new Map<string, number>([
    [HEAVY_ORG, heavyEntries],
    ...lightOrgs.map((org) => [org, LIGHT_ENTRIES] as const),
  ]);
  const acked = new Map<string, number>();
  const lastAckAt = new Map<string, number>();
  let total = 0;
  let lightOrgsDrained = 0;
  let windowClosedAt: number | undefined;
  let windowCounts: number[] | undefined;
  let started = 0;
  const drainer = new Drainer({
    source: countingSource<LeasedEntry>(buffer, (entry) => {
      const now = performance.now();
      const count = (acked.get(entry.orgId) ?? 0) + 1;
      acked.set(entry.orgId, count);
      lastAckAt.set(entry.orgId, now - started);
      total++;
      if (entry.orgId !== HEAVY_ORG && count === LIGHT_ENTRIES) lightOrgsDrained++;
      if (windowClosedAt === undefined && lightOrgsDrained === LIGHT_ORGS) {
        // Every light org is drained: the window in which they competed with the heavy one ends.
        windowClosedAt = now - started;
        windowCounts = [...demand.keys()].map((org) => acked.get(org) ?? 0);
      }
    }),
    handler: async () => undefined,
    concurrency: CONCURRENCY,
  });
  const expected = heavyEntries + LIGHT_ORGS * LIGHT_ENTRIES;
  started = performance.now();
  drainer.start();
  await waitUntil(() => total >= expected, DRAIN_TIMEOUT_MS);
  const elapsedMs = performance.now() - started;
  await drainer.stop({ timeoutMs: 5_000 });
  client.disconnect();
  return {
    lightDrainMs: lightOrgs.map((org) => lastAckAt.get(org) ?? Number.NaN),
    heavyDrainMs: lastAckAt.get(HEAVY_ORG) ?? Number.NaN,
    entriesPerSecond: (total / elapsedMs) * 1000,
    jainUntilLightDrained: jainIndex(windowCounts ?? []),
    heavyInWindow: windowCounts?.[0] ?? Number.NaN,
    windowMs: windowClosedAt ?? Number.NaN,
  };
}

export const fairnessCase: BenchCase = {
  name: "fairness",
  title: `fairness: one heavy org with ${HEAVY_ENTRIES.toLocaleString("en-US")} buffered, ${LIGHT_ORGS} light orgs with ${LIGHT_ENTRIES} each`,
  async run(context): Promise<CaseOutcome> {
    const heavyEntries = context.settings.quick ? QUICK_HEAVY_ENTRIES : HEAVY_ENTRIES;
    const measuredRuns = context.settings.quick ? 1 : 3;
    context.log("warm-up drain");
    await drainOnce(context, Math.min(2_000, heavyEntries));
    const runs: FairnessRun[] = [];
    for (let run = 0; run < measuredRuns; run++) {
      runs.push(await drainOnce(context, heavyEntries));
      context.log(`run ${run + 1}/${measuredRuns}`);
    }
    await context.flush();
    const lightMax = runs.map((run) => Math.max(...run.lightDrainMs));
    const lightMedian = runs.map((run) => median(run.lightDrainMs));
    const heavy = runs.map((run) => run.heavyDrainMs);
    const rate = runs.map((run) => run.entriesPerSecond);
    const jain = runs.map((run) => run.jainUntilLightDrained);
    const heavyInWindow = runs.map((run) => run.heavyInWindow);
    const window = runs.map((run) => run.windowMs);
    const fifoEquivalentMs = (heavyEntries / median(rate)) * 1000;
    return {
      figures: [
        {
          label: "light orgs' time to drain, slowest light org",
          value: median(lightMax),
          unit: "ms",
          runs: lightMax,
        },
        {
          label: "light orgs' time to drain, median light org",
          value: median(lightMedian),
          unit: "ms",
          runs: lightMedian,
        },
        { label: "heavy org's time to drain", value: median(heavy), unit: "ms", runs: heavy },
        { label: "drain rate over the whole drain", value: median(rate), unit: "entries/s", runs: rate },
        {
          label: "Jain's fairness index until every light org was drained",
          value: median(jain),
          unit: "",
          runs: jain,
        },
        {
          label: "heavy org's entries acked in that window",
          value: median(heavyInWindow),
          unit: "entries",
          runs: heavyInWindow,
        },
        { label: "length of that window", value: median(window), unit: "ms", runs: window },
        {
          label: "light orgs' wait behind the heavy backlog in one FIFO (for scale)",
          value: fifoEquivalentMs,
          unit: "ms",
        },
      ],
      checks: [],
      notes: [
        `${heavyEntries.toLocaleString("en-US")} entries of ${HEAVY_ORG} are buffered first, then ${LIGHT_ENTRIES} entries for each of ${LIGHT_ORGS} light orgs (${PAYLOAD_BYTES}-byte payloads, one env per org); the real Drainer (concurrency ${CONCURRENCY}, default quantum, no-op handler) drains everything. Median of ${measuredRuns} run(s) after a warm-up drain.`,
        "Time to drain counts from start() to the ack of an org's last entry.",
        `Jain's index (Σx)²/(n·Σx²) over the 11 orgs, with x = entries of each org acked from start() until the last light org was drained — the stretch in which the light orgs competed with the heavy one. Each light org needs exactly ${LIGHT_ENTRIES} entries (one quantum), so a perfectly fair round gives the heavy org ${LIGHT_ENTRIES} as well and an index of 1.0; the more the heavy org is served before the last light org is done, the lower it gets. Over the whole drain the index says nothing (the heavy org's demand is 10,000x a light org's).`,
        "No target is set for this case in the issue; the FIFO figure shows what a light org would wait without fair scheduling.",
      ],
    };
  },
};
