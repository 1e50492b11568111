import type { GateDecision, GateInputs } from "@mollifier/gate";

export type { GateDecision, GateInputs };

/**
 * The app's view of `@mollifier/gate`: one decision per trigger, never throws.
 * The inputs carry the trigger's facts (debounced, one-time token, a parent
 * waiting, a batch item); the gate alone turns them into a bypass, and its
 * whole decision comes back (reason, evaluation, degraded cause).
 */
export interface AppGate {
  decide(inputs: GateInputs): Promise<GateDecision>;
}
