/**
 * One drainer process of the `cluster` case: a real `Drainer` (no-op handler,
 * concurrency 50) over a `MollifierBuffer` on a single Redis or a Redis Cluster
 * (`REDIS_NODES`, JSON `[{ host, port }]`; `REDIS_CLUSTER=1` for a cluster).
 * Prints `ready` once connected. `SIGUSR2` starts a drainer, `SIGUSR1` stops
 * it and prints `stopped <n>` for its n-th stop (the process stays, so V8 keeps
 * what it optimised across runs), `SIGTERM` exits. While draining it prints `acked <total> cpu <µs>` every 20 ms: the
 * entries it acked and the CPU it used since it started, both cumulative.
 */
import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { Drainer } from "@mollifier/drainer";
import { Cluster, Redis } from "ioredis";
import { countingSource } from "./counting-source.js";

const CONCURRENCY = 50;
const REPORT_INTERVAL_MS = 20;

const nodes = JSON.parse(process.env.REDIS_NODES ?? "[]") as Array<{ host: string; port: number }>;
const first = nodes[0];
if (first === undefined) throw new Error("REDIS_NODES names no node");
const redis =
  process.env.REDIS_CLUSTER === "1"
    ? new Cluster(nodes, { slotsRefreshTimeout: 5_000 })
    : new Redis({ host: first.host, port: first.port });
const buffer = new MollifierBuffer({ redis });
let acked = 0;
let running: Drainer<LeasedEntry> | undefined;
let reported = -1;
let stops = 0;

function report(): void {
  if (acked === reported) return;
  reported = acked;
  const cpu = process.cpuUsage();
  process.stdout.write(`acked ${acked} cpu ${cpu.user + cpu.system}\n`);
}

const timer = setInterval(report, REPORT_INTERVAL_MS);

process.on("SIGUSR2", () => {
  if (running !== undefined) return;
  running = new Drainer({
    source: countingSource<LeasedEntry>(buffer, () => {
      acked++;
    }),
    handler: async () => undefined,
    concurrency: CONCURRENCY,
  });
  running.start();
});

process.on("SIGUSR1", () => {
  const stopping = running;
  running = undefined;
  void stopping?.stop({ timeoutMs: 5_000 }).then(() => {
    report();
    stops++;
    process.stdout.write(`stopped ${stops}\n`);
  });
});

process.on("SIGTERM", () => {
  clearInterval(timer);
  void (running?.stop({ timeoutMs: 2_000 }) ?? Promise.resolve()).finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});

async function main(): Promise<void> {
  await redis.ping();
  if (redis instanceof Cluster) await Promise.all(redis.nodes("master").map((node) => node.ping()));
  report();
  process.stdout.write("ready\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
