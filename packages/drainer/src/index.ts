export type { AdaptiveConcurrencyOptions } from "./adaptive-concurrency.js";
export {
  type CircuitBreakerOptions,
  type CircuitState,
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_MAX_OPEN_MS,
  DEFAULT_OPEN_MS,
} from "./circuit-breaker.js";
export { isDependencyUnavailable } from "./dependency-unavailable.js";
export type {
  DrainAckResult,
  DrainEntry,
  DrainExtendResult,
  DrainFailedEntry,
  DrainFailResult,
  DrainFailureKind,
  DrainLeaseRequest,
  DrainLeaseResult,
  DrainReapFailure,
  DrainReapResult,
  DrainRetryResult,
  DrainRunAddress,
  DrainSource,
} from "./drain-source.js";
export { Drainer } from "./drainer.js";
export { DrainerError, type DrainerErrorCode } from "./drainer-error.js";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_IDLE_DELAY_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAINTENANCE_BATCH_SIZE,
  DEFAULT_MAINTENANCE_INTERVAL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type DrainerOptions,
  type DrainerStopResult,
  type DrainRateLimiter,
} from "./drainer-options.js";
export type { DrainHandler, DrainHandlerContext } from "./entry-processor.js";
export { DEFAULT_QUANTUM } from "./fair-scheduler.js";
export type { LoopBackoffOptions } from "./loop-backoff.js";
export { type RateLimitResult, SharedRateLimiter, type SharedRateLimiterOptions } from "./rate-limiter.js";
export type { TerminalFailure, TerminalFailureHook, TerminalFailureKind } from "./terminal-failure.js";
export {
  DEFAULT_IDLE_POLL_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  type IdleSource,
  type WhenIdleOptions,
  type WhenIdleResult,
  whenIdle,
} from "./when-idle.js";
