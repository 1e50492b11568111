/**
 * What gate, drainer and read-fallback report, as one small interface they take
 * as an optional dependency. Tenant ids (org, env, run) travel in these events
 * for logs and span attributes; implementations never turn them into metric
 * labels.
 */

/** The gate's action for one trigger. */
export type GateAction = "pass_through" | "shadow_log" | "mollify";

/** Outcomes of `accept` in the buffer. */
export type AcceptOutcome = "accepted" | "duplicate_run" | "duplicate_idempotency" | "over_capacity";

/** Outcomes of an idempotency claim. */
export type ClaimOutcome = "claimed" | "pending" | "resolved" | "timed_out" | "degraded";

/** Why an entry left the buffer as FAILED. */
export type FailureKind = "terminal" | "attempts_exhausted" | "invalid_entry";

/** The component that fell back to a safe default. */
export type DegradedComponent = "gate" | "claim" | "read_fallback" | "drainer";

/** Ids of a tenant's run; logged, never used as metric labels. */
export interface RunRef {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

export interface DecisionEvent {
  readonly action: GateAction;
  /** One of the gate's reasons, e.g. `under_budget`, `per_env_rate`, `degraded`. */
  readonly reason: string;
  readonly orgId?: string;
  readonly envId?: string;
  readonly runId?: string;
}

export interface BufferedEvent extends RunRef {
  readonly taskId: string;
  readonly outcome: AcceptOutcome;
}

export interface DrainedEvent extends RunRef {
  /** From accept to ack. */
  readonly timeInBufferMs: number;
  readonly handlerDurationMs: number;
}

export interface RetriedEvent extends RunRef {
  /** Attempts so far, including the one that failed. */
  readonly attempts: number;
  readonly delayMs: number;
  readonly error: string;
}

export interface FailedEvent extends RunRef {
  readonly kind: FailureKind;
  readonly attempts: number;
  readonly error: string;
}

export interface ReapedEvent {
  /** Expired leases returned to their queue in one reaper pass. */
  readonly count: number;
}

export interface ClaimEvent {
  readonly outcome: ClaimOutcome;
  readonly orgId?: string;
  readonly envId?: string;
}

export interface DegradedEvent {
  readonly component: DegradedComponent;
  /** A short, fixed reason such as `timeout` or `redis_error`. */
  readonly reason: string;
  readonly error?: unknown;
  readonly orgId?: string;
  readonly envId?: string;
  readonly runId?: string;
}

export interface DrainLimitsEvent {
  /** The shared materialisation cap in force, per second; `undefined` when uncapped. */
  readonly ratePerSecond: number | undefined;
  /** The concurrency the drainer runs at now (changes in adaptive mode). */
  readonly concurrency: number;
}

/** A snapshot of buffer stats the app feeds on an interval it controls. */
export interface BufferStatsEvent {
  readonly depth: number;
  readonly oldestEntryAgeMs: number;
  readonly leasesInFlight: number;
}

/**
 * The reporting port of every Mollifier component. All methods are
 * synchronous, cheap and must never throw into the caller.
 */
export interface MollifierRecorder {
  decision(event: DecisionEvent): void;
  buffered(event: BufferedEvent): void;
  drained(event: DrainedEvent): void;
  retried(event: RetriedEvent): void;
  failed(event: FailedEvent): void;
  reaped(event: ReapedEvent): void;
  claim(event: ClaimEvent): void;
  degraded(event: DegradedEvent): void;
  drainLimits(event: DrainLimitsEvent): void;
  bufferStats(event: BufferStatsEvent): void;
}
