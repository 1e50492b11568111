import { backoffDelayMs } from "@mollifier/core";
import { requireNumber } from "./drainer-error.js";

/** Default delay after the first consecutive loop error. */
export const DEFAULT_BACKOFF_BASE_MS = 100;
/** Default longest delay between attempts while errors persist. */
export const DEFAULT_BACKOFF_MAX_MS = 5_000;

/** Options of {@link LoopBackoff}. */
export interface LoopBackoffOptions {
  /**
   * Delay after the first consecutive error; it doubles with each further one.
   * @default 100
   */
  baseMs?: number;
  /**
   * Cap on the delay.
   * @default 5000
   */
  maxMs?: number;
  /**
   * Random source in `[0, 1)`: each delay is drawn from `[delay / 2, delay]`
   * ("equal jitter", `@mollifier/core`'s `backoffDelayMs` with `jitter: 0.5`)
   * so a fleet of drainers does not retry in lockstep.
   * @default Math.random
   */
  random?: () => number;
}

// Half of each loop delay is random: drainers that failed together spread out, yet none retries
// sooner than half the backoff.
const LOOP_JITTER = 0.5;

/**
 * Exponential backoff for the drainer's loops: `failed()` returns how long to
 * wait before the next attempt, `succeeded()` resets it.
 */
export class LoopBackoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private consecutive = 0;

  constructor(options: LoopBackoffOptions = {}) {
    this.baseMs = requireNumber("backoff.baseMs", options.baseMs ?? DEFAULT_BACKOFF_BASE_MS, 0);
    this.maxMs = requireNumber("backoff.maxMs", options.maxMs ?? DEFAULT_BACKOFF_MAX_MS, 0);
    if (this.maxMs < this.baseMs) {
      requireNumber("backoff.maxMs", this.maxMs, this.baseMs, true);
    }
    this.random = options.random ?? Math.random;
  }

  /** Consecutive failures since the last success. */
  get failures(): number {
    return this.consecutive;
  }

  /** Records a failure and returns the delay before the next attempt, in ms. */
  failed(): number {
    this.consecutive += 1;
    return backoffDelayMs(
      this.consecutive - 1,
      { initialDelayMs: this.baseMs, maxDelayMs: this.maxMs, jitter: LOOP_JITTER },
      this.random,
    );
  }

  /** Records a success: the next failure starts from `baseMs` again. */
  succeeded(): void {
    this.consecutive = 0;
  }
}
