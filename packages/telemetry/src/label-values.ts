import type { AcceptOutcome, ClaimOutcome, DegradedComponent, FailureKind, GateAction } from "./recorder.js";

/**
 * The closed value sets of every metric label. A value outside its set is
 * recorded as {@link OTHER_LABEL_VALUE}, so each label has at most
 * `values.length + 1` values whatever callers pass.
 */

/** The value a label takes when the caller's value is not in the label's set. */
export const OTHER_LABEL_VALUE = "other";

// Returns its argument, but only compiles when the list names every member of
// `T`, so a value added to a port type cannot silently become `other`.
const everyValueOf =
  <T extends string>() =>
  <const V extends readonly T[]>(values: V & ([T] extends [V[number]] ? unknown : never)): V =>
    values;

/** Every {@link GateAction}. */
export const GATE_ACTIONS = everyValueOf<GateAction>()(["pass_through", "shadow_log", "mollify"]);

/**
 * The gate's reasons that metrics keep apart. `degraded` covers every
 * fail-open path; `other` is also what any reason outside this list becomes.
 */
export const GATE_REASONS = [
  "kill_switch",
  "bypass_debounce",
  "bypass_one_time_token",
  "bypass_trigger_and_wait",
  "bypass_batch",
  "not_enrolled",
  "shadow",
  "under_budget",
  "per_env_rate",
  "global_rate",
  "backlogged",
  "degraded",
  OTHER_LABEL_VALUE,
] as const;

/** A reason the gate can give that metrics keep apart. */
export type GateReason = (typeof GATE_REASONS)[number];

/** Every {@link AcceptOutcome}. */
export const ACCEPT_OUTCOMES = everyValueOf<AcceptOutcome>()([
  "accepted",
  "duplicate_run",
  "duplicate_idempotency",
  "over_capacity",
]);

/** Every {@link ClaimOutcome}. */
export const CLAIM_OUTCOMES = everyValueOf<ClaimOutcome>()([
  "claimed",
  "pending",
  "resolved",
  "timed_out",
  "degraded",
]);

/** Every {@link FailureKind}. */
export const FAILURE_KINDS = everyValueOf<FailureKind>()(["terminal", "attempts_exhausted", "invalid_entry"]);

/** Every {@link DegradedComponent}. */
export const DEGRADED_COMPONENTS = everyValueOf<DegradedComponent>()([
  "gate",
  "claim",
  "read_fallback",
  "drainer",
]);

/**
 * The reasons a component falls back to a safe default that metrics keep
 * apart; any other reason is recorded as `other`.
 */
export const DEGRADED_REASONS = [
  // gate, claim, read fallback
  "timeout",
  "redis_error",
  "flag_error",
  "evaluator_error",
  "invalid_reply",
  // drainer: its lease was lost or a buffer write after the handler failed
  "lease_lost",
  "lease_extend_failed",
  "ack_failed",
  "ack_lease_lost",
  "retry_lease_lost",
  "fail_lease_lost",
  "settle_failed",
  "terminal_hook_failed",
  "terminal_hook_exhausted",
  // outages: the database could not be reached (a direct write failed over to the buffer, or the
  // drainer's circuit opened), or one shard's Redis master could not be reached
  "database_unavailable",
  "circuit_open",
  "shard_unavailable",
  OTHER_LABEL_VALUE,
] as const;

/** A reason for a `degraded` event that metrics keep apart. */
export type DegradedReason = (typeof DEGRADED_REASONS)[number];
