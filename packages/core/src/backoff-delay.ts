/**
 * Exponential backoff with a cap and jitter, the one convention every
 * Mollifier package uses.
 */
export interface BackoffPolicy {
  /** The delay before the first retry, in ms; it doubles with each further one. */
  readonly initialDelayMs: number;
  /** The cap on one delay, in ms. */
  readonly maxDelayMs: number;
  /**
   * The share of each delay that is random, from 0 to 1: the delay is drawn
   * uniformly from `[ceiling · (1 - jitter), ceiling]`, where `ceiling` is the
   * capped exponential delay. `1` is "full jitter" (anywhere from 0), `0.5`
   * "equal jitter" (the upper half), `0` none. Jitter only shortens a delay,
   * so `maxDelayMs` is a hard cap.
   */
  readonly jitter: number;
}

// 2^52 times any delay is past every cap, and stays finite (0 · 2^52 is 0, not NaN).
const MAX_EXPONENT = 52;

/**
 * The delay before retry number `attempt` (0 for the first retry), an integer
 * number of ms: `min(maxDelayMs, initialDelayMs · 2^attempt)`, shortened by a
 * random share of at most `jitter`. `random` returns numbers in `[0, 1)`;
 * tests inject it.
 *
 * @example
 * backoffDelayMs(3, { initialDelayMs: 100, maxDelayMs: 5_000, jitter: 0.5 }, Math.random); // 400..800
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt), MAX_EXPONENT);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.round(ceiling * (1 - policy.jitter * random()));
}
