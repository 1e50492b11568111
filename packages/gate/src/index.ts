export {
  type BypassReason,
  type DegradedCause,
  type DivertReason,
  type EnrollmentResolver,
  evaluateGate,
  type GateCascadeConfig,
  type GateDecision,
  type GateDependencies,
  type GateInputs,
  type GateReason,
} from "./evaluate-gate.js";
export {
  DEFAULT_BATCH_SUPPORT,
  DEFAULT_ENABLED,
  DEFAULT_GLOBAL_PARTS,
  DEFAULT_SHADOW_MODE,
  DEFAULT_TIME_BUDGET_MS,
  DEFAULT_TRIP_BUCKETS,
  DEFAULT_TRIP_HOLD_MS,
  DEFAULT_TRIP_THRESHOLD,
  DEFAULT_TRIP_WINDOW_MS,
  GATE_CONFIG_ENV_VARIABLES,
  type GateConfig,
  type GateConfigInput,
  gateConfigSchema,
  MAX_GLOBAL_PARTS,
  MAX_TRIP_BUCKETS,
  MIN_GLOBAL_PART_THRESHOLD,
  parseGateConfig,
  parseGateConfigFromEnv,
} from "./gate-config.js";
export { GateError, type GateErrorCode } from "./gate-error.js";
export type {
  GlobalTripFigures,
  TripEvaluation,
  TripEvaluator,
  TripOutcome,
  TripRequest,
} from "./trip-evaluation.js";
export { RedisTripEvaluator, type RedisTripEvaluatorOptions } from "./trip-evaluator.js";
