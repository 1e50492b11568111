import { randomUUID } from "node:crypto";
import { MollifierBuffer } from "@mollifier/buffer";
import { createReadFallback, type RunStore } from "@mollifier/read-fallback";
import { Redis } from "ioredis";

// No offline queue, and a command timeout: while Redis is down or stuck, calls fail fast and the
// read fallback answers `degraded` instead of waiting. Connect first: a client that is still
// connecting refuses commands (no offline queue), so the first request would fail.
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
  commandTimeout: 500,
  lazyConnect: true,
});
await redis.connect();
const buffer = new MollifierBuffer({ redis });

// Your run table. This one is empty: every run below is still in the buffer.
const runStore: RunStore = {
  findRun: async () => undefined,
  findRunByIdempotencyKey: async () => undefined,
  cancelRun: async () => ({ outcome: "not_found" }),
  addTags: async () => ({ outcome: "not_found" }),
  setMetadata: async () => ({ outcome: "not_found" }),
  rescheduleRun: async () => ({ outcome: "not_found" }),
  resetIdempotencyKey: async () => ({ outcome: "not_found" }),
};
const readFallback = createReadFallback({ buffer, runStore });

const tenant = { orgId: "org_1", envId: "env_prod" };
// The gate decides between the database and the buffer; this trigger goes to the buffer.
async function trigger(taskId: string, idempotencyKey: string): Promise<string> {
  const runId = `run_${randomUUID()}`;
  await buffer.accept({ ...tenant, runId, taskId, payload: {}, options: { idempotencyKey } });
  return runId;
}

async function triggerWithKey(taskId: string, idempotencyKey: string): Promise<string> {
  const key = { ...tenant, taskId, idempotencyKey };
  const claim = await readFallback.claimOrAwait(key);
  if (claim.outcome === "resolved") return claim.runId;
  if (claim.outcome === "timed_out") throw new Error("retry later");
  // claimed, or degraded (proceed without a claim)
  try {
    const existing = await readFallback.findIdempotentRun(key);
    if (existing.outcome === "expired") await readFallback.resetIdempotencyKey(key);
    const runId = existing.outcome === "found" ? existing.run.id : await trigger(taskId, idempotencyKey);
    if (claim.outcome === "claimed") await readFallback.publish({ ...key, token: claim.token, runId });
    return runId;
  } catch (error) {
    if (claim.outcome === "claimed") await readFallback.release({ ...key, token: claim.token });
    throw error;
  }
}

const idempotencyKey = `order-${randomUUID()}`;
const runId = await triggerWithKey("send-email", idempotencyKey);
const again = await triggerWithKey("send-email", idempotencyKey); // the same run
console.log(runId === again);

const found = await readFallback.findRun({ ...tenant, runId }); // GET /runs/:id
console.log(found.outcome === "found" ? found.run.status : found.outcome); // QUEUED
const tagged = await readFallback.addTags({ ...tenant, runId, tags: ["vip"] });
const updated = await readFallback.updateMetadata({
  ...tenant,
  runId,
  update: (current) => JSON.stringify({ ...JSON.parse(current ?? "{}"), progress: 0.5 }),
});
console.log(tagged.outcome, updated.outcome);
await redis.quit();
