import type { MollifierRecorder } from "@mollifier/telemetry";
import type { Redis } from "ioredis";
import type { AppGate, GateDecision, GateInput } from "./gate-port";

/**
 * Stand-in for `@mollifier/gate` until it lands: the cascade (bypasses →
 * enrollment → shadow → sticky backlog → sliding-window trip with hold), fail-open.
 */
const SLIDING_WINDOW = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local hold = tonumber(ARGV[4])
local bucket = math.floor(now / window)
local current = redis.call('INCR', KEYS[1] .. ':' .. bucket)
redis.call('PEXPIRE', KEYS[1] .. ':' .. bucket, window * 3)
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (bucket - 1)) or '0')
local elapsed = (now - bucket * window) / window
local estimate = previous * (1 - elapsed) + current
if estimate > limit then
  redis.call('SET', KEYS[2], '1', 'PX', hold)
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
return 0
`;

export interface LocalGateOptions {
  readonly redis: Redis;
  readonly shadow: boolean;
  readonly enrolledOrgs: readonly string[] | "*";
  readonly ratePerSecond: number;
  readonly windowMs: number;
  readonly holdMs: number;
  /** Entries this env still has in the buffer (sticky while backlogged). */
  readonly envDepth: (orgId: string, envId: string) => Promise<number>;
  readonly recorder: MollifierRecorder;
  /** @default 250 */
  readonly timeoutMs?: number;
  readonly clock?: () => number;
  readonly prefix?: string;
}

export function createLocalGate(options: LocalGateOptions): AppGate {
  const clock = options.clock ?? Date.now;
  const prefix = options.prefix ?? "mollifier-demo:gate";
  const limit = (options.ratePerSecond * options.windowMs) / 1_000;

  async function evaluate(input: GateInput): Promise<GateDecision> {
    if (input.bypass) return { action: "pass_through", reason: `bypass_${input.bypass}` };
    if (options.enrolledOrgs !== "*" && !options.enrolledOrgs.includes(input.orgId)) {
      return { action: "pass_through", reason: "not_enrolled" };
    }
    const hit = options.shadow ? "shadow_log" : "mollify";
    if (!options.shadow && (await options.envDepth(input.orgId, input.envId)) > 0) {
      // Sticky: while the env has a backlog, new triggers queue behind it, keeping per-env order.
      await tripped(input);
      return { action: "mollify", reason: "backlogged" };
    }
    return (await tripped(input))
      ? { action: hit, reason: "per_env_rate" }
      : { action: "pass_through", reason: "under_budget" };
  }

  async function tripped(input: GateInput): Promise<boolean> {
    const base = `${prefix}:${JSON.stringify([input.orgId, input.envId])}`;
    const reply = await options.redis.eval(
      SLIDING_WINDOW,
      2,
      `${base}:count`,
      `${base}:tripped`,
      String(clock()),
      String(options.windowMs),
      String(limit),
      String(options.holdMs),
    );
    return Number(reply) === 1;
  }

  return {
    async decide(input) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const decision = await Promise.race([
          evaluate(input),
          new Promise<GateDecision>((resolve) => {
            timer = setTimeout(
              () => resolve({ action: "pass_through", reason: "degraded" }),
              options.timeoutMs ?? 250,
            );
          }),
        ]);
        if (decision.reason === "degraded") {
          options.recorder.degraded({ component: "gate", reason: "timeout", ...input });
        }
        options.recorder.decision({
          ...decision,
          orgId: input.orgId,
          envId: input.envId,
          runId: input.runId,
        });
        return decision;
      } catch (error) {
        // Fail open: a Redis outage must never fail a customer's trigger.
        options.recorder.degraded({ component: "gate", reason: "redis_error", error, ...input });
        const decision: GateDecision = { action: "pass_through", reason: "degraded" };
        options.recorder.decision({
          ...decision,
          orgId: input.orgId,
          envId: input.envId,
          runId: input.runId,
        });
        return decision;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
