import { performance } from "node:perf_hooks";
import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { Drainer } from "@mollifier/drainer";
import { Queue, Worker } from "bullmq";
import type { BenchCase, CaseOutcome } from "../bench-case.js";
import { countingSource, waitUntil } from "../counting-source.js";
import { runInterleaved } from "../interleaved-runs.js";
import { commandCalls, commandsBetween, scriptMicroseconds } from "../redis-info.js";
import { median } from "../statistics.js";
import { ratioAtLeast } from "../target-checks.js";
import { BENCH_TASK_ID, benchPayload, runPrefix, triggerInput } from "../trigger-inputs.js";

const ENTRIES = 10_000;
const QUICK_ENTRIES = 3_000;
const CONCURRENCY = 50;
const FILL_BATCH = 100;
const TARGET_RATIO = 3;
const DRAIN_TIMEOUT_MS = 240_000;
/**
 * Warm-up rounds of a full run (both sides each time). V8 keeps optimising
 * the Drainer's path for about 40,000 entries: in one process, successive
 * 10,000-entry drains optimised 250, 94, 42, 24 and 16 functions
 * (`--trace-opt`) while the bench process's CPU per entry fell from about 40
 * to 15 µs. BullMQ's Worker reached its steady rate after about three runs.
 */
const FULL_WARMUP_ROUNDS = 4;

export const drainCase: BenchCase = {
  name: "drain",
  title: `drain through the real Drainer (no-op handler) vs BullMQ Worker (concurrency ${CONCURRENCY}, no-op)`,
  async run(context): Promise<CaseOutcome> {
    const entries = context.settings.quick ? QUICK_ENTRIES : ENTRIES;
    const bufferClient = context.createClient();
    const buffer = new MollifierBuffer({ redis: bufferClient });
    const queueClient = context.createClient({ maxRetriesPerRequest: null });
    const workerClient = context.createClient({ maxRetriesPerRequest: null });
    const queueName = "bench-drain";
    const queue = new Queue(queueName, { connection: queueClient });
    const payload = benchPayload();
    const admin = context.createClient();
    // Cost per drained entry, from the last run of each side: where the time goes.
    const costPerEntry = new Map<string, string>();
    const startCostMeter = async (side: string) => {
      const commands = await commandCalls(admin);
      const script = await scriptMicroseconds(admin);
      const cpu = process.cpuUsage();
      const started = performance.now();
      return async (count: number) => {
        const used = process.cpuUsage(cpu);
        const elapsedMs = performance.now() - started;
        const scriptTime = (await scriptMicroseconds(admin)) - script;
        const delta = [...commandsBetween(commands, await commandCalls(admin))].sort((a, b) => b[1] - a[1]);
        const total = delta.reduce((sum, [, calls]) => sum + calls, 0);
        const cpuMicroseconds = used.user + used.system;
        costPerEntry.set(
          side,
          `${(cpuMicroseconds / count).toFixed(0)} µs of bench-process CPU per entry (the process was busy ${((cpuMicroseconds / 1000 / elapsedMs) * 100).toFixed(0)}% of the drain), ${(scriptTime / count).toFixed(1)} µs of Redis script time per entry (Redis busy in scripts ${((scriptTime / 1000 / elapsedMs) * 100).toFixed(0)}% of the drain), ${(total / count).toFixed(2)} Redis commands per entry (${delta.map(([command, calls]) => `${command} ${(calls / count).toFixed(2)}`).join(", ")})`,
        );
      };
    };

    const warmups = context.settings.quick ? context.settings.warmups : FULL_WARMUP_ROUNDS;
    const samples = await runInterleaved<number>(
      context,
      "drain",
      [
        {
          name: "mollifier",
          run: async () => {
            const prefix = runPrefix("drain");
            for (let start = 0; start < entries; start += FILL_BATCH) {
              // Entries spread over 16 orgs, a batch per org at a time.
              const org = (start / FILL_BATCH) % 16;
              const inputs = Array.from({ length: Math.min(FILL_BATCH, entries - start) }, (_, item) => ({
                ...triggerInput(prefix, start + item),
                orgId: `org_${org}`,
              }));
              await buffer.acceptBatch(inputs);
            }
            let acked = 0;
            const drainer = new Drainer({
              source: countingSource<LeasedEntry>(buffer, () => {
                acked++;
              }),
              handler: async () => undefined,
              concurrency: CONCURRENCY,
            });
            const finishCost = await startCostMeter("Drainer");
            const started = performance.now();
            drainer.start();
            await waitUntil(() => acked >= entries, DRAIN_TIMEOUT_MS);
            const elapsedMs = performance.now() - started;
            await drainer.stop({ timeoutMs: 5_000 });
            await finishCost(acked);
            return (acked / elapsedMs) * 1000;
          },
        },
        {
          name: "bullmq",
          run: async () => {
            for (let start = 0; start < entries; start += FILL_BATCH) {
              await queue.addBulk(
                Array.from({ length: Math.min(FILL_BATCH, entries - start) }, () => ({
                  name: BENCH_TASK_ID,
                  data: payload,
                  opts: { removeOnComplete: true },
                })),
              );
            }
            let completed = 0;
            const worker = new Worker(queueName, async () => undefined, {
              connection: workerClient,
              concurrency: CONCURRENCY,
              autorun: false,
            });
            worker.on("completed", () => {
              completed++;
            });
            const finishCost = await startCostMeter("BullMQ Worker");
            const started = performance.now();
            void worker.run();
            await waitUntil(() => completed >= entries, DRAIN_TIMEOUT_MS);
            const elapsedMs = performance.now() - started;
            await worker.close();
            await finishCost(completed);
            return (completed / elapsedMs) * 1000;
          },
        },
      ],
      { warmups },
    );
    await queue.close();
    const ours = samples.get("mollifier") ?? [];
    const peer = samples.get("bullmq") ?? [];
    const oursRate = median(ours);
    const peerRate = median(peer);
    return {
      figures: [
        { label: "Drainer, no-op handler", value: oursRate, unit: "entries/s", runs: ours },
        {
          label: `BullMQ Worker, concurrency ${CONCURRENCY}, no-op`,
          value: peerRate,
          unit: "jobs/s",
          runs: peer,
        },
      ],
      checks: [ratioAtLeast("drain vs BullMQ Worker", oursRate, peerRate, TARGET_RATIO, "/s")],
      notes: [
        `${entries.toLocaleString("en-US")} entries (1 KiB payload) pre-filled before each run: buffer entries over 16 orgs, BullMQ jobs in one queue with removeOnComplete (the job is deleted, as an ack deletes the entry).`,
        `Each side warms up for ${warmups} unmeasured run(s) before the measured ones (the other cases: ${context.settings.warmups}): V8 keeps optimising the Drainer's path for about 40,000 entries, and a drainer is a long-running process, so the figure is its steady rate; BullMQ gets the same warm-up.`,
        `The Drainer runs with concurrency ${CONCURRENCY}, its default quantum and no rate cap, through a source wrapper that counts acks; BullMQ's Worker runs with concurrency ${CONCURRENCY} and counts 'completed' events. Time runs from start() / run() to the last ack / completion.`,
        ...[...costPerEntry].map(
          ([side, text]) => `${side}, last run: ${text} (commands inside scripts included).`,
        ),
      ],
    };
  },
};
