import { MollifierBuffer } from "@mollifier/buffer";
import { Queue } from "bullmq";
import type { BenchCase, CaseOutcome } from "../bench-case.js";
import { runInterleaved } from "../interleaved-runs.js";
import { usedMemory } from "../redis-info.js";
import { median } from "../statistics.js";
import { ratioAtMost } from "../target-checks.js";
import { BENCH_TASK_ID, benchPayload, runPrefix, triggerInput } from "../trigger-inputs.js";

const ENTRIES = 10_000;
const IN_FLIGHT = 64;
const TARGET_RATIO = 0.8;

async function fill(count: number, add: (sequence: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await add(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

export const memoryCase: BenchCase = {
  name: "memory",
  title: `memory per buffered entry (1 KiB payload, used_memory delta over ${ENTRIES.toLocaleString("en-US")}) vs a BullMQ waiting job`,
  async run(context): Promise<CaseOutcome> {
    const admin = context.createClient();
    const bufferClient = context.createClient();
    const buffer = new MollifierBuffer({ redis: bufferClient });
    const queueClient = context.createClient({ maxRetriesPerRequest: null });
    const queue = new Queue("bench-memory", { connection: queueClient });
    const payload = benchPayload();

    // The first write creates the per-org/per-queue structures and loads the
    // scripts; the baseline is taken after it so the delta is per entry only.
    const measure = async (add: (sequence: number) => Promise<unknown>) => {
      await add(-1);
      const before = await usedMemory(admin);
      await fill(ENTRIES, add);
      const after = await usedMemory(admin);
      return (after - before) / ENTRIES;
    };
    const samples = await runInterleaved<number>(context, "memory", [
      {
        name: "mollifier",
        run: () => {
          const prefix = runPrefix("memory");
          return measure(async (sequence) => {
            const result = await buffer.accept(triggerInput(prefix, sequence + 1));
            if (result.outcome !== "accepted") throw new Error(`accept answered ${result.outcome}`);
          });
        },
      },
      { name: "bullmq", run: () => measure(() => queue.add(BENCH_TASK_ID, payload)) },
    ]);
    await queue.close();
    const ours = samples.get("mollifier") ?? [];
    const peer = samples.get("bullmq") ?? [];
    const oursBytes = median(ours);
    const peerBytes = median(peer);
    return {
      figures: [
        { label: "bytes per buffered entry", value: oursBytes, unit: "bytes", runs: ours },
        { label: "bytes per BullMQ waiting job", value: peerBytes, unit: "bytes", runs: peer },
      ],
      checks: [
        ratioAtMost("memory per entry vs BullMQ waiting job", oursBytes, peerBytes, TARGET_RATIO, "bytes"),
      ],
      notes: [
        `used_memory before and after ${ENTRIES.toLocaleString("en-US")} accepts (16 orgs, one env each) or Queue.add calls with the same 1 KiB JSON payload, divided by the count; the payload itself is ~1,024 bytes of each figure.`,
        "BullMQ jobs use default options (the job hash, its id in the wait list, the id counter, the events stream).",
      ],
    };
  },
};
