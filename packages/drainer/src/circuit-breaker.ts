/** The states of a {@link CircuitBreaker}. */
export type CircuitState = "closed" | "open" | "half_open";

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive "unavailable" outcomes that open the circuit.
   * @default 3
   */
  failureThreshold?: number;
  /**
   * How long the circuit stays open the first time, ms; each failed probe
   * doubles it up to `maxOpenMs`.
   * @default 1_000
   */
  openMs?: number;
  /**
   * Longest time the circuit stays open between probes, ms.
   * @default 15_000
   */
  maxOpenMs?: number;
  /** Told of every state change (for logs and metrics). */
  onStateChange?: (state: CircuitState, openMs: number) => void;
}

export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_OPEN_MS = 1_000;
export const DEFAULT_MAX_OPEN_MS = 15_000;

/**
 * A circuit breaker over one dependency, fed with outcomes: `closed` lets every
 * call through; `failureThreshold` consecutive unavailable outcomes open it;
 * after `openMs` it is `half_open` and lets exactly one probe through, whose
 * success closes it (releasing every waiter) and whose failure opens it again
 * for twice as long (up to `maxOpenMs`). Waiting is a promise per waiter and
 * one timer, so an outage costs no work beyond one probe per open period.
 */
export class CircuitBreaker {
  private currentState: CircuitState = "closed";
  private consecutiveFailures = 0;
  private currentOpenMs: number;
  private probeOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Array<() => void> = [];
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly maxOpenMs: number;
  private readonly onStateChange: ((state: CircuitState, openMs: number) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.openMs = options.openMs ?? DEFAULT_OPEN_MS;
    this.maxOpenMs = Math.max(this.openMs, options.maxOpenMs ?? DEFAULT_MAX_OPEN_MS);
    this.currentOpenMs = this.openMs;
    this.onStateChange = options.onStateChange;
  }

  get state(): CircuitState {
    return this.currentState;
  }

  /** A call succeeded: the dependency is back. */
  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.probeOut = false;
    this.currentOpenMs = this.openMs;
    if (this.currentState !== "closed") this.transition("closed");
  }

  /** A call failed because the dependency could not be reached. */
  recordUnavailable(): void {
    this.consecutiveFailures++;
    if (this.currentState === "half_open") {
      // The probe failed: stay away twice as long.
      this.probeOut = false;
      this.currentOpenMs = Math.min(this.maxOpenMs, this.currentOpenMs * 2);
      this.open();
    } else if (this.currentState === "closed" && this.consecutiveFailures >= this.failureThreshold) {
      this.open();
    }
  }

  /**
   * Resolves when a call may go out: at once while closed; while half-open,
   * for the one probe (the others keep waiting for its outcome). Rejects with
   * the signal's reason when `signal` aborts first.
   */
  whenCallable(signal?: AbortSignal): Promise<void> {
    if (this.currentState === "closed") return Promise.resolve();
    if (this.currentState === "half_open" && !this.probeOut) {
      this.probeOut = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        // Woken by a state change: ask again (a half-open circuit admits one probe).
        this.whenCallable(signal).then(resolve, reject);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  private open(): void {
    this.transition("open");
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.transition("half_open");
    }, this.currentOpenMs);
    // An open circuit alone must not keep the process alive.
    this.timer.unref?.();
  }

  private transition(state: CircuitState): void {
    this.currentState = state;
    if (state === "closed" && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.onStateChange?.(state, this.currentOpenMs);
    if (state === "open") return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
