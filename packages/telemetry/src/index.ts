export type { MetricsRecorder, RecorderOptions } from "./create-recorder.js";
export { createRecorder, DEFAULT_METER_NAME } from "./create-recorder.js";
export type { GuardedLabels, LabelInput } from "./label-guards.js";
export { guardLabels, isIdLikeLabelKey } from "./label-guards.js";
export type { DegradedReason, GateReason } from "./label-values.js";
export {
  ACCEPT_OUTCOMES,
  CLAIM_OUTCOMES,
  DEGRADED_COMPONENTS,
  DEGRADED_REASONS,
  FAILURE_KINDS,
  GATE_ACTIONS,
  GATE_REASONS,
  OTHER_LABEL_VALUE,
} from "./label-values.js";
export type {
  LabelKeyOf,
  LabelSchema,
  MetricDefinition,
  MetricKey,
  MetricKind,
  MetricValueType,
} from "./metric-catalog.js";
export { metricCatalog } from "./metric-catalog.js";
export type { LogFields, LogLevel, MollifierLogger } from "./mollifier-logger.js";
export { LOG_EVENTS } from "./mollifier-logger.js";
export { noopRecorder } from "./noop-recorder.js";
export type {
  AcceptOutcome,
  BufferedEvent,
  BufferStatsEvent,
  ClaimEvent,
  ClaimOutcome,
  DecisionEvent,
  DegradedComponent,
  DegradedEvent,
  DrainedEvent,
  DrainLimitsEvent,
  FailedEvent,
  FailureKind,
  GateAction,
  MollifierRecorder,
  ReapedEvent,
  RetriedEvent,
  RunRef,
} from "./recorder.js";
export type { TelemetryErrorCode } from "./telemetry-error.js";
export { TelemetryError } from "./telemetry-error.js";
