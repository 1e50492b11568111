/**
 * The trip evaluator port: what the gate asks of a budget, and the figures it
 * gets back. {@link RedisTripEvaluator} is the implementation; tests of the
 * cascade may pass a small fake.
 */

/** Why an evaluation says divert, or `under_budget` when it does not. */
export type TripOutcome = "under_budget" | "per_env_rate" | "global_rate" | "backlogged";

/** One trigger to count against its env's budget (and the fleet's, when configured). */
export interface TripRequest {
  readonly orgId: string;
  readonly envId: string;
  /** Epoch ms from the gate's injected clock. */
  readonly now: number;
}

/** The fleet-wide budget's figures, present when it was consulted. */
export interface GlobalTripFigures {
  /**
   * Triggers counted fleet-wide in the window, this one included; when the
   * budget is spread over parts, estimated from the part that counted this
   * one (its count scaled by the budget over its share).
   */
  readonly count: number;
  /** The fleet-wide budget per window (`globalThreshold`). */
  readonly threshold: number;
  /** Time left in the hold after the last over-threshold trigger, ms (0 when not held). */
  readonly holdRemainingMs: number;
}

/** An evaluator's answer with the figures behind it. */
export interface TripEvaluation {
  readonly outcome: TripOutcome;
  /** `true` unless `outcome` is `under_budget`: the trigger should be diverted. */
  readonly tripped: boolean;
  /** Triggers counted in the env's window, this one included. */
  readonly count: number;
  /** The env's threshold per window. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Time left in the env's hold after its last over-threshold trigger, ms (0 when not held). */
  readonly holdRemainingMs: number;
  /** Entries the env has in the buffer. */
  readonly backlog: number;
  /** Only when a global budget is configured and the env itself was under budget. */
  readonly global?: GlobalTripFigures;
}

/** Counts a trigger and says whether it is over budget. */
export interface TripEvaluator {
  evaluate(request: TripRequest): Promise<TripEvaluation>;
}
