import { ReadFallbackError, requireFraction, requireInteger } from "./read-fallback-error.js";

/** How a wait polls: exponential backoff with jitter, bounded in total. */
export interface PollingOptions {
  /** First delay, in ms. */
  readonly initialDelayMs: number;
  /** Largest single delay, in ms. */
  readonly maxDelayMs: number;
  /**
   * Share of each delay that is random: `0` sleeps exactly the backoff, `1`
   * sleeps anywhere from 0 to it ("full jitter").
   */
  readonly jitter: number;
  /** Total time a wait may take before it answers `timed_out`, in ms. */
  readonly maxWaitMs: number;
}

/**
 * The delay before retry number `attempt` (0-based):
 * `min(maxDelayMs, initialDelayMs * 2^attempt)`, of which a `jitter` share is
 * random so that waiters started together spread out. Never below 1 ms.
 */
export function backoffDelay(
  attempt: number,
  polling: Pick<PollingOptions, "initialDelayMs" | "maxDelayMs" | "jitter">,
  random: () => number,
): number {
  const exponential = Math.min(polling.maxDelayMs, polling.initialDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = exponential * (1 - polling.jitter * random());
  return Math.max(1, Math.round(jittered));
}

/** Fills `partial` from `defaults` and validates it; errors name `name.field`. */
export function resolvePolling(
  name: string,
  partial: Partial<PollingOptions> | undefined,
  defaults: PollingOptions,
): PollingOptions {
  const polling = { ...defaults, ...definedFields(partial) };
  requireInteger(`${name}.initialDelayMs`, polling.initialDelayMs, 1);
  requireInteger(`${name}.maxDelayMs`, polling.maxDelayMs, 1);
  requireInteger(`${name}.maxWaitMs`, polling.maxWaitMs, 0);
  requireFraction(`${name}.jitter`, polling.jitter, 0, 1);
  if (polling.maxDelayMs < polling.initialDelayMs) {
    throw new ReadFallbackError(
      "INVALID_OPTIONS",
      `${name}.maxDelayMs (${polling.maxDelayMs}) must be at least ${name}.initialDelayMs (${polling.initialDelayMs})`,
    );
  }
  return Object.freeze(polling);
}

function definedFields<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
