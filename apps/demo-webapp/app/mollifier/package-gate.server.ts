import type { MollifierBuffer } from "@mollifier/buffer";
import { evaluateGate, type GateCascadeConfig, RedisTripEvaluator } from "@mollifier/gate";
import type { MollifierRecorder } from "@mollifier/telemetry";
import type { Redis } from "ioredis";
import type { AppConfig } from "../config.server";
import type { AppGate } from "./gate-port";

/**
 * `@mollifier/gate` for the app's modes: `shadow` treats every org as not
 * enrolled with shadow mode on (decisions are logged, nothing is diverted);
 * `dual-write` and `mollify` divert enrolled orgs.
 */
export function createPackageGate(options: {
  redis: Redis;
  buffer: MollifierBuffer;
  config: AppConfig;
  recorder: MollifierRecorder;
}): AppGate {
  const { config } = options;
  const evaluator = new RedisTripEvaluator({
    redis: options.redis,
    keys: options.buffer.keys,
    tripThreshold: Math.max(1, Math.round((config.envRatePerSecond * config.windowMs) / 1_000)),
    tripWindowMs: config.windowMs,
    tripHoldMs: Math.max(1, config.holdMs),
  });
  const cascade: GateCascadeConfig = {
    enabled: config.mode !== "off",
    shadowMode: config.mode === "shadow",
    batchSupport: config.mollifyBatches,
    timeBudgetMs: config.gateTimeBudgetMs,
  };
  const enrolled = config.enrolledOrgs;
  const resolveEnrollment =
    config.mode === "shadow"
      ? () => false
      : ({ orgId }: { orgId: string }) => enrolled === "*" || enrolled.includes(orgId);
  return {
    async decide(input) {
      const decision = await evaluateGate(
        {
          orgId: input.orgId,
          envId: input.envId,
          taskId: input.taskId,
          runId: input.runId,
          debounce: input.bypass === "debounce",
          oneTimeUseToken: input.bypass === "one_time_use_token",
          parentWaiting: input.bypass === "trigger_and_wait",
          isBatchItem: input.bypass === "batch",
        },
        { config: cascade, resolveEnrollment, evaluator, recorder: options.recorder },
      );
      return { action: decision.action, reason: decision.reason };
    },
  };
}
