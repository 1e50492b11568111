import { MollifierBuffer } from "@mollifier/buffer";
import { evaluateGate, parseGateConfig, RedisTripEvaluator } from "@mollifier/gate";
import { Redis } from "ioredis";

// The app owns its configuration: parseGateConfigFromEnv(process.env) reads MOLLIFIER_* variables.
// `enabled` defaults to false (the kill switch), where every decision is pass_through / kill_switch.
const config = parseGateConfig({ enabled: true, tripThreshold: 3 });

// No offline queue: while Redis is down, commands fail at once instead of waiting for a reconnect.
// Connect before the first trigger: until the client is ready, every decision is
// pass_through / degraded, with a REDIS_NOT_READY error that says so.
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
  lazyConnect: true,
});
await redis.connect();
const buffer = new MollifierBuffer({ redis });
const evaluator = new RedisTripEvaluator({ redis, keys: buffer.keys, ...config });
const enrolledOrgs = new Set(["org_1"]);

for (let index = 0; index < 6; index++) {
  const runId = `run_gate_${index}`;
  // Also pass debounce, oneTimeUseToken, parentWaiting and isBatchItem: those bypass the evaluation.
  const trigger = { orgId: "org_1", envId: "env_prod", taskId: "send-email", runId };
  const decision = await evaluateGate(trigger, {
    config,
    resolveEnrollment: ({ orgId }) => enrolledOrgs.has(orgId),
    evaluator,
  });
  if (decision.action === "mollify") {
    await buffer.accept({ ...trigger, payload: { index } }); // answer "queued" at once
  } else {
    // pass_through and shadow_log both go to the database (your engine's trigger).
  }
  console.log(runId, decision.action, decision.reason);
}
await redis.quit();
