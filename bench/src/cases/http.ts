import { join } from "node:path";
import { freePort } from "@mollifier/testing/servers";
import { type BenchCase, type CaseContext, CaseNotRunError, type CaseOutcome } from "../bench-case.js";
import { type DemoAppProcess, demoAppUnavailableReason, startDemoApp } from "../demo-app-process.js";
import { DEMO_API_KEYS } from "../http-burst.js";
import { type HttpLoadSample, runHttpClosedLoop } from "../http-load.js";
import { runInterleaved } from "../interleaved-runs.js";
import { jsonPayload } from "../payload.js";
import { startServerProcess } from "../server-process.js";
import { median } from "../statistics.js";
import { ratioAtLeast, ratioAtMost } from "../target-checks.js";
import { repositoryRoot } from "../workspace-build.js";

const CONNECTIONS = 64;
/** Bytes of the request body, the size the issue measured with. */
const BODY_BYTES = 750;
const THROUGHPUT_TARGET = 0.5;
const P99_TARGET = 2;
/** Measured runs per side in a full run: 8 s each, four sides, so 3 keep the case near 2 minutes. */
const FULL_RUNS = 3;
const TRIGGER_PATH = "/api/v1/tasks/http-bench/trigger";

/** A request body of exactly {@link BODY_BYTES}: a payload and a tag, like a typical trigger. */
function requestBody(): string {
  const shell = JSON.stringify({ payload: jsonPayload(2), options: { tags: ["bench"] } });
  const payloadBytes = BODY_BYTES - (shell.length - JSON.stringify(jsonPayload(2)).length);
  return JSON.stringify({ payload: jsonPayload(payloadBytes), options: { tags: ["bench"] } });
}

interface Target {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function startReference(context: CaseContext, kind: "accept" | "bullmq"): Promise<Target> {
  const port = await freePort();
  const process_ = await startServerProcess({
    command: join(repositoryRoot, "bench", "node_modules", ".bin", "tsx"),
    args: ["src/reference-server.ts"],
    cwd: join(repositoryRoot, "bench"),
    env: {
      ...(process.env as Record<string, string>),
      REFERENCE_KIND: kind,
      REDIS_HOST: context.redisHost,
      REDIS_PORT: String(context.redisPort),
      PORT: String(port),
    },
    isReady: async (output) => output.includes("listening"),
    timeoutMs: 30_000,
  });
  return { host: "127.0.0.1", port, stop: process_.stop };
}

function targetOfDemo(app: DemoAppProcess): Target {
  const url = new URL(app.url);
  return { host: url.hostname, port: Number(url.port), stop: app.stop };
}

/** Gate decisions so far, keyed `<action>:<reason>`, from the demo's `/dashboard/stats`. */
async function decisionTotals(app: DemoAppProcess): Promise<Record<string, number>> {
  const response = await fetch(`${app.url}/dashboard/stats`);
  const stats = (await response.json()) as { totals: { decisions: Record<string, number> } };
  return stats.totals.decisions;
}

export const httpCase: BenchCase = {
  name: "http",
  title:
    "the demo's trigger route (mollify, every env tripped) vs a bare node:http + JSON.parse + accept server, 64 keep-alive connections",
  async run(context): Promise<CaseOutcome> {
    const unavailable = demoAppUnavailableReason();
    if (unavailable !== undefined) throw new CaseNotRunError(unavailable);
    const durationMs = context.settings.quick ? 2_000 : 8_000;
    const settings = context.settings.quick ? context.settings : { ...context.settings, runs: FULL_RUNS };
    const body = requestBody();
    const redisUrl = `redis://${context.redisHost}:${context.redisPort}`;
    context.log("starting the demo (mollify, pass-through) and the reference servers");
    const mollifyApp = await startDemoApp({
      REDIS_URL: redisUrl,
      MOLLIFIER_MODE: "mollify",
      // One trigger per env per window passes the gate: every env is tripped, nearly every trigger is buffered.
      MOLLIFIER_TRIP_THRESHOLD: "1",
    });
    const targets: Target[] = [targetOfDemo(mollifyApp)];
    try {
      // Pass-through buffers nothing, so it runs no drainer (it would drain the mollify app's runs).
      const passThroughApp = await startDemoApp({
        REDIS_URL: redisUrl,
        MOLLIFIER_MODE: "off",
        MOLLIFIER_DRAINER: "separate",
      });
      targets.push(targetOfDemo(passThroughApp));
      const accept = await startReference(context, "accept");
      targets.push(accept);
      const bullmq = await startReference(context, "bullmq");
      targets.push(bullmq);
      const [mollify, passThrough] = targets as [Target, Target];
      const decisions: Record<string, number> = {};
      const measure = (target: Target) =>
        runHttpClosedLoop({
          host: target.host,
          port: target.port,
          path: TRIGGER_PATH,
          connections: CONNECTIONS,
          durationMs,
          body,
          authorization: (index) => `Bearer ${DEMO_API_KEYS[index % DEMO_API_KEYS.length]}`,
        });
      const samples = await runInterleaved<HttpLoadSample>({ ...context, settings }, "http", [
        {
          name: "mollify",
          run: async () => {
            const before = await decisionTotals(mollifyApp);
            const sample = await measure(mollify);
            for (const [key, count] of Object.entries(await decisionTotals(mollifyApp)))
              decisions[key] = (decisions[key] ?? 0) + count - (before[key] ?? 0);
            return sample;
          },
        },
        { name: "reference", run: () => measure(accept) },
        { name: "bullmq", run: () => measure(bullmq) },
        { name: "pass-through", run: () => measure(passThrough) },
      ]);
      const summary = (name: string) => {
        const runs = samples.get(name) ?? [];
        return {
          runs,
          rate: median(runs.map((s) => s.requestsPerSecond)),
          p50: median(runs.map((s) => s.p50Ms)),
          p99: median(runs.map((s) => s.p99Ms)),
          statuses: runs.map((s) => s.statusCounts),
        };
      };
      const sides = [
        ["demo, mollify", summary("mollify")],
        ["reference (node:http + accept)", summary("reference")],
        ["peer (node:http + Queue.add)", summary("bullmq")],
        ["demo, pass-through (mode off)", summary("pass-through")],
      ] as const;
      const figures = sides.flatMap(([label, side]) => [
        {
          label: `${label}: throughput`,
          value: side.rate,
          unit: "requests/s",
          runs: side.runs.map((s) => s.requestsPerSecond),
        },
        { label: `${label}: p50`, value: side.p50, unit: "ms", runs: side.runs.map((s) => s.p50Ms) },
        { label: `${label}: p99`, value: side.p99, unit: "ms", runs: side.runs.map((s) => s.p99Ms) },
      ]);
      const ours = sides[0][1];
      const reference = sides[1][1];
      const buffered = Object.entries(decisions)
        .filter(([key]) => key.startsWith("mollify:"))
        .reduce((sum, [, count]) => sum + count, 0);
      const decided = Object.values(decisions).reduce((sum, count) => sum + count, 0);
      return {
        figures,
        checks: [
          ratioAtLeast(
            "trigger route throughput, demo (mollify) vs reference",
            ours.rate,
            reference.rate,
            THROUGHPUT_TARGET,
            "requests/s",
          ),
          ratioAtMost(
            "trigger route p99, demo (mollify) vs reference",
            ours.p99,
            reference.p99,
            P99_TARGET,
            "ms",
          ),
        ],
        notes: [
          `Closed loop: ${CONNECTIONS} keep-alive connections, one request in flight each, ${durationMs / 1000} s per run, on raw sockets from the bench process (the request is prebuilt; each answer is read by its content-length), so the client costs little next to either server. Body ${Buffer.byteLength(body)} bytes ({ payload, options: { tags } }), POST ${TRIGGER_PATH}, the 6 seeded API keys spread over the connections.`,
          "Every server is its own process on the bench's Redis: the demo as `pnpm demo` runs it (node --import tsx server/serve.ts, in-memory PGlite, in-process drainer at its default cap) with MOLLIFIER_TRIP_THRESHOLD=1, so every env is tripped and the triggers are buffered; the reference (bench/src/reference-server.ts) reads the body, JSON.parse, looks the bearer key up in a map, calls MollifierBuffer.accept and answers 201 { id }; the peer is the same server with BullMQ Queue.add. Pass-through is the demo with MOLLIFIER_MODE=off (every trigger written to PGlite inside the request, default write limiter: 4 concurrent writes, 5 ms each).",
          `Gate decisions during the measured and warm-up mollify runs: ${buffered.toLocaleString("en-US")} of ${decided.toLocaleString("en-US")} buffered (${JSON.stringify(decisions)}). Statuses per run: ${sides.map(([label, side]) => `${label} ${JSON.stringify(side.statuses)}`).join("; ")}.`,
          `Each figure is the median of ${settings.runs} measured runs after ${settings.warmups} warm-up, sides interleaved, FLUSHALL before each run.`,
        ],
      };
    } finally {
      for (const target of targets) await target.stop();
    }
  },
};
