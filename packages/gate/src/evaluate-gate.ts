import type { MollifierRecorder } from "@mollifier/telemetry";
import { noopRecorder } from "@mollifier/telemetry";
import type { GateConfig } from "./gate-config.js";
import { GateError } from "./gate-error.js";
import { TIMED_OUT, TimeBudget } from "./time-budget.js";
import type { TripEvaluation, TripEvaluator, TripOutcome } from "./trip-evaluation.js";

/** One trigger as the gate sees it. */
export interface GateInputs {
  readonly orgId: string;
  readonly envId: string;
  readonly taskId: string;
  /** The pre-minted run id, for the recorder's logs. */
  readonly runId?: string;
  /** The trigger is debounced: it must reach the run engine's debounce logic at once. */
  readonly debounce?: boolean;
  /** The trigger carries a one-time-use token the engine must consume synchronously. */
  readonly oneTimeUseToken?: boolean;
  /** Trigger-and-wait: a parent run is waiting on this run's result. */
  readonly parentWaiting?: boolean;
  /** The trigger is one item of a batch. */
  readonly isBatchItem?: boolean;
}

/** Reasons a trigger skips the gate's evaluation. */
export type BypassReason =
  | "bypass_debounce"
  | "bypass_one_time_token"
  | "bypass_trigger_and_wait"
  | "bypass_batch";
/** Reasons an evaluation diverts a trigger. */
export type DivertReason = Exclude<TripOutcome, "under_budget">;
/** Why the gate failed open. Matches the telemetry's degraded reasons. */
export type DegradedCause = "timeout" | "flag_error" | "evaluator_error" | "invalid_reply";
/** Every reason a decision can carry. */
export type GateReason =
  | "kill_switch"
  | BypassReason
  | "not_enrolled"
  | "under_budget"
  | DivertReason
  | "degraded";

/**
 * The gate's decision, as data. `pass_through` and `shadow_log` both let the
 * trigger continue to the database (`shadow_log` says it would have been
 * mollified, for the log); only `mollify` diverts it to the buffer.
 */
export type GateDecision =
  | { readonly action: "pass_through"; readonly reason: "kill_switch" | BypassReason | "not_enrolled" }
  | {
      readonly action: "pass_through";
      readonly reason: "under_budget";
      /** `true` when the org is not enrolled and was evaluated in shadow mode. */
      readonly shadow: boolean;
      readonly evaluation: TripEvaluation;
    }
  | {
      readonly action: "pass_through";
      readonly reason: "degraded";
      readonly cause: DegradedCause;
      readonly error?: unknown;
    }
  | {
      readonly action: "shadow_log" | "mollify";
      readonly reason: DivertReason;
      readonly evaluation: TripEvaluation;
    };

/** The configuration fields the cascade reads ({@link GateConfig} satisfies it). */
export type GateCascadeConfig = Pick<GateConfig, "enabled" | "shadowMode" | "batchSupport" | "timeBudgetMs">;

/** Answers whether an org is enrolled in mollifying; may be synchronous. */
export type EnrollmentResolver = (request: {
  readonly orgId: string;
  readonly envId: string;
}) => boolean | PromiseLike<boolean>;

/** What {@link evaluateGate} needs, injected. */
export interface GateDependencies {
  /** Validated configuration (see `parseGateConfig`); read on every call, so it may be swapped live. */
  readonly config: GateCascadeConfig;
  /** Per-org enrollment, e.g. a feature flag; counted against the time budget. */
  readonly resolveEnrollment: EnrollmentResolver;
  /** The trip evaluator, e.g. `RedisTripEvaluator`. */
  readonly evaluator: TripEvaluator;
  /**
   * The clock whose `now` the evaluator counts with.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * Receives every decision and every fail-open.
   * @default noopRecorder
   */
  readonly recorder?: MollifierRecorder;
}

const KILL_SWITCH: GateDecision = Object.freeze({ action: "pass_through", reason: "kill_switch" });
const NOT_ENROLLED: GateDecision = Object.freeze({ action: "pass_through", reason: "not_enrolled" });
const BYPASSES: Readonly<Record<BypassReason, GateDecision>> = {
  bypass_debounce: Object.freeze({ action: "pass_through", reason: "bypass_debounce" }),
  bypass_one_time_token: Object.freeze({ action: "pass_through", reason: "bypass_one_time_token" }),
  bypass_trigger_and_wait: Object.freeze({ action: "pass_through", reason: "bypass_trigger_and_wait" }),
  bypass_batch: Object.freeze({ action: "pass_through", reason: "bypass_batch" }),
};

function bypassReason(inputs: GateInputs, config: GateCascadeConfig): BypassReason | undefined {
  // These triggers need the run engine synchronously (a debounce window, a
  // token consumed once, a parent blocked on the result), so they never wait
  // in the buffer.
  if (inputs.debounce === true) return "bypass_debounce";
  if (inputs.oneTimeUseToken === true) return "bypass_one_time_token";
  if (inputs.parentWaiting === true) return "bypass_trigger_and_wait";
  if (inputs.isBatchItem === true && !config.batchSupport) return "bypass_batch";
  return undefined;
}

function degraded(cause: DegradedCause, error?: unknown): GateDecision {
  return error === undefined
    ? { action: "pass_through", reason: "degraded", cause }
    : { action: "pass_through", reason: "degraded", cause, error };
}

async function decide(inputs: GateInputs, dependencies: GateDependencies, recorder: MollifierRecorder) {
  const { config } = dependencies;
  if (config.enabled !== true) return KILL_SWITCH;
  const bypass = bypassReason(inputs, config);
  if (bypass !== undefined) return BYPASSES[bypass];

  const budget = new TimeBudget(config.timeBudgetMs);
  let step: "flag" | "evaluator" = "flag";
  try {
    const enrolled = await budget.race(
      dependencies.resolveEnrollment({ orgId: inputs.orgId, envId: inputs.envId }),
    );
    if (enrolled === TIMED_OUT) return failOpen(recorder, inputs, "timeout");
    const shadow = enrolled !== true;
    if (shadow && !config.shadowMode) return NOT_ENROLLED;
    step = "evaluator";
    const now = (dependencies.clock ?? Date.now)();
    const evaluation = await budget.race(
      dependencies.evaluator.evaluate({ orgId: inputs.orgId, envId: inputs.envId, now }),
    );
    if (evaluation === TIMED_OUT) return failOpen(recorder, inputs, "timeout");
    if (evaluation.outcome === "under_budget") {
      return { action: "pass_through", reason: "under_budget", shadow, evaluation } satisfies GateDecision;
    }
    return {
      action: shadow ? "shadow_log" : "mollify",
      reason: evaluation.outcome,
      evaluation,
    } satisfies GateDecision;
  } catch (error) {
    const cause: DegradedCause =
      step === "flag"
        ? "flag_error"
        : GateError.isInstance(error) && error.code === "UNEXPECTED_REPLY"
          ? "invalid_reply"
          : "evaluator_error";
    return failOpen(recorder, inputs, cause, error);
  } finally {
    budget.cancel();
  }
}

function failOpen(
  recorder: MollifierRecorder,
  inputs: GateInputs,
  cause: DegradedCause,
  error?: unknown,
): GateDecision {
  try {
    recorder.degraded({
      component: "gate",
      reason: cause,
      error,
      orgId: inputs.orgId,
      envId: inputs.envId,
      runId: inputs.runId,
    });
  } catch {
    // A broken recorder must not fail a trigger.
  }
  return degraded(cause, error);
}

/**
 * Decides what to do with one trigger. The cascade, first match wins:
 *
 * 1. kill switch off (`config.enabled === false`) → `pass_through` / `kill_switch`
 * 2. bypasses → `pass_through` / `bypass_debounce`, `bypass_one_time_token`,
 *    `bypass_trigger_and_wait`, `bypass_batch` (batch items unless `batchSupport`)
 * 3. org not enrolled and shadow mode off → `pass_through` / `not_enrolled`
 * 4. trip evaluator → `mollify` (enrolled) or `shadow_log` (shadow mode) with
 *    `per_env_rate`, `global_rate` or `backlogged`; else `pass_through` / `under_budget`
 *
 * Steps 1–3 send no Redis command. Never throws and never waits longer than
 * `config.timeBudgetMs` for enrollment and evaluation together: any error or
 * overrun gives `pass_through` / `degraded` (and `recorder.degraded`). Every
 * decision is passed to `recorder.decision`.
 *
 * @example
 * const decision = await evaluateGate(
 *   { orgId, envId, taskId, runId },
 *   { config, resolveEnrollment: ({ orgId }) => enrolledOrgs.has(orgId), evaluator, recorder },
 * );
 * if (decision.action === "mollify") await buffer.accept(snapshot);
 */
export async function evaluateGate(
  inputs: GateInputs,
  dependencies: GateDependencies,
): Promise<GateDecision> {
  const recorder = dependencies.recorder ?? noopRecorder;
  let decision: GateDecision;
  try {
    decision = await decide(inputs, dependencies, recorder);
  } catch (error) {
    // Only a bug in a port (a getter that throws, say) gets here; still fail open.
    decision = failOpen(recorder, inputs, "evaluator_error", error);
  }
  try {
    recorder.decision({
      action: decision.action,
      reason: decision.reason,
      orgId: inputs.orgId,
      envId: inputs.envId,
      runId: inputs.runId,
    });
  } catch {
    // A broken recorder must not fail a trigger.
  }
  return decision;
}
