// A drainer in its own process, for the crash test: `tsx drainer-process.ts <redis-url> <concurrency>`.
// It prints "started" once draining and is meant to be killed with SIGKILL.
import { MollifierBuffer } from "@mollifier/buffer";
import { Redis } from "ioredis";
import { Drainer } from "../drainer.js";
import { materialise } from "./materialise.js";

const [url, concurrency] = process.argv.slice(2);
if (url === undefined || concurrency === undefined)
  throw new Error("usage: drainer-process <redis-url> <concurrency>");
const redis = new Redis(url);
const drainer = new Drainer({
  source: new MollifierBuffer({ redis, leaseMs: 1_000 }),
  concurrency: Number(concurrency),
  leaseMs: 1_000,
  idleDelayMs: 5,
  handler: async (entry) => {
    await materialise(redis, entry.runId, `child-${process.pid}`);
    // Work after the write and before the ack: a kill here leaves a materialised, unacked entry.
    await new Promise((resolve) => setTimeout(resolve, 5));
  },
});
drainer.start();
process.stdout.write("started\n");
