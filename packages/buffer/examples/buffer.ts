import { MollifierBuffer } from "@mollifier/buffer";
import { Redis } from "ioredis";

// lazyConnect + connect(): the first command runs on a ready client.
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { lazyConnect: true });
await redis.connect();
const buffer = new MollifierBuffer({ redis, maxEnvDepth: 100_000 });
await buffer.checkRedisConfiguration({ onEvictionPolicy: "refuse" }); // needs noeviction
await buffer.checkLayout(); // refuses to start if Redis holds another shard layout

const accepted = await buffer.accept({
  runId: "run_123",
  orgId: "org_1",
  envId: "env_prod",
  taskId: "send-email",
  payload: { to: "a@example.com" },
  options: { idempotencyKey: "order-42", tags: ["email"] },
});
console.log(accepted); // { outcome: "accepted", runId: "run_123", position: 0 }

// The drainer (usually @mollifier/drainer) leases entries, writes each run and acknowledges it.
const database = new Map<string, unknown>();
const { entries } = await buffer.lease({ orgId: "org_1", envId: "env_prod", count: 10 });
for (const entry of entries) {
  try {
    database.set(entry.runId, { snapshot: entry.snapshot, mutations: entry.mutations }); // your run table
    await buffer.ack(entry);
  } catch (error) {
    const retry = await buffer.retry(entry, { error: String(error) });
    if (retry.outcome === "exhausted") {
      await buffer.fail(entry, { error: String(error), kind: "attempts_exhausted" });
    }
  }
}
console.log(`${database.size} run(s) written`);

// Periodically, from any process:
await buffer.reapExpiredLeases();
await buffer.promoteDueRetries();
await redis.quit();
