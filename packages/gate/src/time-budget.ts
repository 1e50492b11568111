/** What {@link TimeBudget.race} resolves to when the budget ran out first. */
export const TIMED_OUT: unique symbol = Symbol("@mollifier/gate/timed-out");

/**
 * One deadline shared by every step of a gate evaluation. The timer starts
 * with the first step that is actually asynchronous, so paths that never wait
 * never arm a timer. Call {@link TimeBudget.cancel} when done.
 */
export class TimeBudget {
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expired: Promise<typeof TIMED_OUT> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * Resolves to the work's value, or {@link TIMED_OUT} once the budget is
   * spent. A rejection of work that lost the race is absorbed (`Promise.race`
   * keeps a handler on it), so a late failure is never an unhandled rejection.
   */
  race<T>(work: T | PromiseLike<T>): T | Promise<T | typeof TIMED_OUT> {
    if (!isThenable(work)) return work;
    if (this.#expired === undefined) {
      this.#expired = new Promise((resolve) => {
        this.#timer = setTimeout(resolve, this.#ms, TIMED_OUT);
        // Never keep a process alive for a gate decision.
        this.#timer.unref?.();
      });
    }
    return Promise.race([work, this.#expired]);
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}
