import { MollifierBuffer } from "@mollifier/buffer";
import { Queue } from "bullmq";
import type { BenchCase, CaseOutcome } from "../bench-case.js";
import { runInterleaved } from "../interleaved-runs.js";
import { type LoadSample, runClosedLoop } from "../load-runner.js";
import { describeCommandsPerCall } from "../redis-info.js";
import { median } from "../statistics.js";
import { ratioAtLeast } from "../target-checks.js";
import { BENCH_TASK_ID, benchPayload, runPrefix, triggerInput } from "../trigger-inputs.js";

const BATCH_SIZE = 100;
const IN_FLIGHT = 4;
const TARGET_RATIO = 2;

export const acceptBatchCase: BenchCase = {
  name: "accept-batch",
  title: `batch accept of ${BATCH_SIZE} (1 KiB payloads) vs BullMQ addBulk(${BATCH_SIZE})`,
  async run(context): Promise<CaseOutcome> {
    const { durationMs } = context.settings;
    const bufferClient = context.createClient();
    const buffer = new MollifierBuffer({ redis: bufferClient });
    const queueClient = context.createClient({ maxRetriesPerRequest: null });
    const queue = new Queue("bench-accept-batch", { connection: queueClient });
    const payload = benchPayload();
    const jobs = Array.from({ length: BATCH_SIZE }, () => ({ name: BENCH_TASK_ID, data: payload }));
    const batchOf = (prefix: string, sequence: number) => {
      // A batch trigger belongs to one env: all items share the org.
      const orgId = `org_${sequence % 16}`;
      return Array.from({ length: BATCH_SIZE }, (_, item) => ({
        ...triggerInput(prefix, sequence * BATCH_SIZE + item),
        orgId,
      }));
    };
    const admin = context.createClient();
    const commandsPrefix = runPrefix("batch-commands");

    const samples = await runInterleaved<LoadSample>(context, "accept-batch", [
      {
        name: "mollifier",
        run: () => {
          const prefix = runPrefix("batch");
          return runClosedLoop({
            inFlight: IN_FLIGHT,
            durationMs,
            itemsPerOperation: BATCH_SIZE,
            operation: async (sequence) => {
              const results = await buffer.acceptBatch(batchOf(prefix, sequence));
              for (const result of results) {
                if (result.outcome !== "accepted") throw new Error(`acceptBatch answered ${result.outcome}`);
              }
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
            itemsPerOperation: BATCH_SIZE,
            operation: () => queue.addBulk(jobs),
          }),
      },
    ]);
    // After the measured runs, so both sides are warm.
    const batchCommands = await describeCommandsPerCall(admin, 20, (sequence) =>
      buffer.acceptBatch(batchOf(commandsPrefix, sequence)),
    );
    const bulkCommands = await describeCommandsPerCall(admin, 20, () => queue.addBulk(jobs));
    await context.flush();
    await queue.close();

    const ours = samples.get("mollifier") ?? [];
    const peer = samples.get("bullmq") ?? [];
    const oursRate = median(ours.map((sample) => sample.itemsPerSecond));
    const peerRate = median(peer.map((sample) => sample.itemsPerSecond));
    return {
      figures: [
        {
          label: "acceptBatch throughput",
          value: oursRate,
          unit: "entries/s",
          runs: ours.map((s) => s.itemsPerSecond),
        },
        {
          label: "acceptBatch p50 (one batch)",
          value: median(ours.map((s) => s.p50Ms)),
          unit: "ms",
          runs: ours.map((s) => s.p50Ms),
        },
        {
          label: "acceptBatch p99 (one batch)",
          value: median(ours.map((s) => s.p99Ms)),
          unit: "ms",
          runs: ours.map((s) => s.p99Ms),
        },
        {
          label: "addBulk throughput",
          value: peerRate,
          unit: "jobs/s",
          runs: peer.map((s) => s.itemsPerSecond),
        },
        {
          label: "addBulk p50 (one batch)",
          value: median(peer.map((s) => s.p50Ms)),
          unit: "ms",
          runs: peer.map((s) => s.p50Ms),
        },
        {
          label: "addBulk p99 (one batch)",
          value: median(peer.map((s) => s.p99Ms)),
          unit: "ms",
          runs: peer.map((s) => s.p99Ms),
        },
      ],
      checks: [
        ratioAtLeast(
          `acceptBatch(${BATCH_SIZE}) vs addBulk(${BATCH_SIZE})`,
          oursRate,
          peerRate,
          TARGET_RATIO,
          "entries/s",
        ),
      ],
      notes: [
        `Each run keeps ${IN_FLIGHT} batches of ${BATCH_SIZE} in flight for ${durationMs} ms; a batch goes to one org/env (rotating over 16 orgs), as a batch trigger does; throughput counts entries.`,
        `Per acceptBatch(${BATCH_SIZE}): ${batchCommands}. Per addBulk(${BATCH_SIZE}): ${bulkCommands}. (INFO commandstats over 20 sequential batches; commands inside scripts included.)`,
      ],
    };
  },
};
