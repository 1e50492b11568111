import type { GateAction } from "@mollifier/telemetry";

/** Why a trigger skips the trip evaluator: each is a path the buffer cannot serve. */
export type GateBypass = "debounce" | "one_time_use_token" | "trigger_and_wait" | "batch";

export interface GateInput {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  readonly taskId: string;
  readonly bypass?: GateBypass | undefined;
}

export interface GateDecision {
  readonly action: GateAction;
  readonly reason: string;
}

/** The app's view of `@mollifier/gate`: one decision per trigger, never throws. */
export interface AppGate {
  decide(input: GateInput): Promise<GateDecision>;
}
