import { MollifierBuffer } from "@mollifier/buffer";
import { Queue } from "bullmq";
import { captureScriptCall } from "../accept-script-call.js";
import type { BenchCase, CaseContext, CaseOutcome } from "../bench-case.js";
import { formatNumber } from "../format.js";
import { runInterleaved } from "../interleaved-runs.js";
import { type LoadSample, runClosedLoop } from "../load-runner.js";
import { runRedisBenchmark } from "../redis-benchmark.js";
import { describeCommandsPerCall } from "../redis-info.js";
import { median } from "../statistics.js";
import { ratioAtLeast } from "../target-checks.js";
import { BENCH_TASK_ID, benchPayload, runPrefix, triggerInput } from "../trigger-inputs.js";

const IN_FLIGHT = 64;
const TARGET_RATIO = 1.5;
const CEILING_CLIENTS = 50;
const CEILING_PIPELINE = 16;
// redis-benchmark reads -r as a C int.
const CEILING_RANDOM_RANGE = 2_000_000_000;
const RUN_ID_MARKER = "ceilingmarker";

/**
 * Replays the exact `EVALSHA` one accept sends, with the run id replaced by
 * `__rand_int__`, through `redis-benchmark` (pipelined): the script's
 * server-side ceiling, free of client cost. Checks afterwards that the calls
 * were accepts and not error replies.
 */
async function acceptCeiling(context: CaseContext, command: readonly string[], requests: number) {
  const client = context.createClient();
  try {
    const requestsPerSecond = await runRedisBenchmark({
      host: context.redisHost,
      port: context.redisPort,
      requests,
      clients: CEILING_CLIENTS,
      pipeline: CEILING_PIPELINE,
      randomRange: CEILING_RANDOM_RANGE,
      command,
    });
    const keys = await client.keys("*depth*");
    let buffered = 0;
    for (const key of keys) buffered += Number((await client.hget(key, "total")) ?? 0);
    // A few random ids may repeat (duplicate_run); anything far below means error replies.
    if (buffered < requests * 0.99) {
      throw new Error(`redis-benchmark's accepts buffered only ${buffered} of ${requests} entries`);
    }
    return requestsPerSecond;
  } finally {
    client.disconnect();
  }
}

export const acceptCase: BenchCase = {
  name: "accept",
  title: `accept, 1 KiB payload, ${IN_FLIGHT} in flight, vs BullMQ Queue.add; accept script's server-side ceiling`,
  async run(context): Promise<CaseOutcome> {
    const { durationMs, quick } = context.settings;
    const bufferClient = context.createClient();
    const buffer = new MollifierBuffer({ redis: bufferClient });
    const queueClient = context.createClient({ maxRetriesPerRequest: null });
    const queue = new Queue("bench-accept", { connection: queueClient });
    const payload = benchPayload();

    const admin = context.createClient();
    const captured = await captureScriptCall(bufferClient, () =>
      buffer.accept({ ...triggerInput("x", 0), runId: RUN_ID_MARKER }),
    );
    const replayed = captured.keysAndArguments.map((value) =>
      value === RUN_ID_MARKER ? "run__rand_int__" : value,
    );
    if (!replayed.includes("run__rand_int__")) {
      throw new Error("the accept call does not pass the run id as an argument; cannot randomise it");
    }
    // redis-benchmark sends only EVALSHA: the script must be in the server's cache (the captured
    // accept loaded it; FLUSHALL between runs keeps the script cache).
    const loaded: unknown = await admin.script("EXISTS", captured.sha);
    if (!Array.isArray(loaded) || loaded[0] !== 1)
      throw new Error(`the accept script ${captured.sha} is not loaded on the server`);
    const ceilingCommand = ["EVALSHA", captured.sha, String(captured.numberOfKeys), ...replayed];
    const ceilingRequests = quick ? 20_000 : 100_000;
    const commandsPrefix = runPrefix("commands");

    const samples = await runInterleaved<LoadSample>(context, "accept", [
      {
        name: "mollifier",
        run: () => {
          const prefix = runPrefix("accept");
          return runClosedLoop({
            inFlight: IN_FLIGHT,
            durationMs,
            operation: async (sequence) => {
              const result = await buffer.accept(triggerInput(prefix, sequence));
              if (result.outcome !== "accepted") throw new Error(`accept answered ${result.outcome}`);
            },
          });
        },
      },
      {
        name: "bullmq",
        run: () =>
          runClosedLoop({
            inFlight: IN_FLIGHT,
            durationMs,
            operation: () => queue.add(BENCH_TASK_ID, payload),
          }),
      },
      {
        name: "ceiling",
        run: async () => {
          const rate = await acceptCeiling(context, ceilingCommand, ceilingRequests);
          return {
            operations: ceilingRequests,
            items: ceilingRequests,
            elapsedMs: 0,
            itemsPerSecond: rate,
            p50Ms: 0,
            p99Ms: 0,
          };
        },
      },
    ]);
    // After the measured runs, so both sides are warm.
    const acceptCommands = await describeCommandsPerCall(admin, 500, (sequence) =>
      buffer.accept(triggerInput(commandsPrefix, sequence)),
    );
    const addCommands = await describeCommandsPerCall(admin, 500, () => queue.add(BENCH_TASK_ID, payload));
    await context.flush();
    await queue.close();

    const ours = samples.get("mollifier") ?? [];
    const peer = samples.get("bullmq") ?? [];
    const ceiling = samples.get("ceiling") ?? [];
    const oursRate = median(ours.map((sample) => sample.itemsPerSecond));
    const peerRate = median(peer.map((sample) => sample.itemsPerSecond));
    const ceilingRate = median(ceiling.map((sample) => sample.itemsPerSecond));
    const share = oursRate / ceilingRate;
    return {
      figures: [
        {
          label: "accept throughput",
          value: oursRate,
          unit: "entries/s",
          runs: ours.map((s) => s.itemsPerSecond),
        },
        {
          label: "accept p50",
          value: median(ours.map((s) => s.p50Ms)),
          unit: "ms",
          runs: ours.map((s) => s.p50Ms),
        },
        {
          label: "accept p99",
          value: median(ours.map((s) => s.p99Ms)),
          unit: "ms",
          runs: ours.map((s) => s.p99Ms),
        },
        {
          label: "Queue.add throughput",
          value: peerRate,
          unit: "jobs/s",
          runs: peer.map((s) => s.itemsPerSecond),
        },
        {
          label: "Queue.add p50",
          value: median(peer.map((s) => s.p50Ms)),
          unit: "ms",
          runs: peer.map((s) => s.p50Ms),
        },
        {
          label: "Queue.add p99",
          value: median(peer.map((s) => s.p99Ms)),
          unit: "ms",
          runs: peer.map((s) => s.p99Ms),
        },
        {
          label: `accept script ceiling (redis-benchmark EVALSHA, ${CEILING_CLIENTS} clients, pipeline ${CEILING_PIPELINE})`,
          value: ceilingRate,
          unit: "calls/s",
          runs: ceiling.map((s) => s.itemsPerSecond),
        },
        { label: "accept path's share of the ceiling", value: share * 100, unit: "%" },
      ],
      checks: [
        ratioAtLeast(`accept vs Queue.add, ${IN_FLIGHT} in flight`, oursRate, peerRate, TARGET_RATIO, "/s"),
      ],
      notes: [
        `Each run keeps ${IN_FLIGHT} calls in flight for ${durationMs} ms on one ioredis connection per side; triggers spread over 16 orgs (one env each), 1 KiB JSON payload, no options.`,
        `The ceiling replays the exact EVALSHA one accept sends (captured from the client, run id replaced by \`__rand_int__\`, ${formatNumber(ceilingRequests)} calls into one env) with redis-benchmark; the run checks that the calls buffered entries rather than returning errors.`,
        `Share = accept throughput through the package (validation, encoding, one round trip) ÷ the ceiling: ${(share * 100).toFixed(1)} %. On 2 shared cores the client process and redis-server compete for CPU, which caps the share.`,
        `Per accept: ${acceptCommands}. Per Queue.add: ${addCommands}. (INFO commandstats over 500 sequential calls; commands inside scripts included.)`,
      ],
    };
  },
};
