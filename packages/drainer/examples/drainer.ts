import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { Drainer, SharedRateLimiter, whenIdle } from "@mollifier/drainer";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { lazyConnect: true });
await redis.connect();
const buffer = new MollifierBuffer({ redis });
for (const runId of ["run_d1", "run_d2", "run_d3"]) {
  await buffer.accept({ runId, orgId: "org_1", envId: "env_prod", taskId: "send-email", payload: { runId } });
}

class ValidationError extends Error {}
// Stands in for your run table; the handler must be idempotent on entry.runId
// (e.g. INSERT ... ON CONFLICT (id) DO NOTHING).
const runTable = new Map<string, LeasedEntry["snapshot"]>();
const failedRuns = new Map<string, string>();

const drainer = new Drainer({
  source: buffer, // any DrainSource; entry below is the buffer's LeasedEntry
  handler: async (entry, { signal }) => {
    signal.throwIfAborted();
    if (entry.snapshot.taskId === "") throw new ValidationError("no task");
    runTable.set(entry.runId, entry.snapshot);
  },
  isRetryable: (error) => !(error instanceof ValidationError),
  // Every terminal failure; `entry` is whole for handler failures, as far as it can be read otherwise.
  onTerminalFailure: async ({ runId, message }) => {
    failedRuns.set(runId, message);
  },
  concurrency: 50,
  rateLimiter: new SharedRateLimiter({ redis, ratePerSecond: 500 }),
  adaptive: { targetLatencyMs: 250 },
  // recorder: createRecorder() from @mollifier/telemetry reports to OpenTelemetry.
});

drainer.start();
// In a script or a test: wait until everything accepted is written (a fleet drains until SIGTERM).
await whenIdle(drainer, buffer, { timeoutMs: 30_000 });
console.log([...runTable.keys()]);

// On SIGTERM in a real process:
await drainer.stop({ timeoutMs: 10_000 });
await redis.quit();
