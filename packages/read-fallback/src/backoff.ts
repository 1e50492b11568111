import { type BackoffPolicy, backoffDelayMs } from "@mollifier/core";
import { readFallbackOptionChecks as check } from "./read-fallback-error.js";

/**
 * How a wait polls: exponential backoff with jitter (`@mollifier/core`'s one
 * convention), bounded in total.
 */
export interface PollingOptions extends BackoffPolicy {
  /** First delay, in ms. */
  readonly initialDelayMs: number;
  /** Largest single delay, in ms. */
  readonly maxDelayMs: number;
  /**
   * Share of each delay that is random: `0` sleeps exactly the backoff, `0.5`
   * anywhere in its upper half ("equal jitter"), `1` anywhere from 0 to it
   * ("full jitter").
   */
  readonly jitter: number;
  /** Total time a wait may take before it answers `timed_out`, in ms. */
  readonly maxWaitMs: number;
}

/**
 * The delay before retry number `attempt` (0-based):
 * `min(maxDelayMs, initialDelayMs * 2^attempt)`, of which a `jitter` share is
 * random so that waiters started together spread out. Never below 1 ms, so a
 * wait never spins.
 */
export function backoffDelay(attempt: number, polling: BackoffPolicy, random: () => number): number {
  return Math.max(1, backoffDelayMs(attempt, polling, random));
}

/** Fills `partial` from `defaults` and validates it; errors name `ReadFallbackOptions.<name>.<field>`. */
export function resolvePolling(
  name: string,
  partial: Partial<PollingOptions> | undefined,
  defaults: PollingOptions,
): PollingOptions {
  const polling = { ...defaults, ...definedFields(partial) };
  check.integer(`${name}.initialDelayMs`, polling.initialDelayMs, 1);
  check.integer(`${name}.maxDelayMs`, polling.maxDelayMs, polling.initialDelayMs);
  check.integer(`${name}.maxWaitMs`, polling.maxWaitMs, 0);
  check.number(`${name}.jitter`, polling.jitter, { min: 0, max: 1 });
  return Object.freeze(polling);
}

function definedFields<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
