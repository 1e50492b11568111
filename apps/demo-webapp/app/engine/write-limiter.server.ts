/**
 * The database's write capacity: at most `maxConcurrent` writes at once, the
 * rest wait in FIFO order, and each write holds its slot for at least
 * `latencyMs` (the write runs while that time passes, as a slower database's
 * would), so the limit is `maxConcurrent × 1000 / latencyMs` writes/s. It also
 * counts, so the demo can show writes/s and prove the limit was never exceeded.
 */
export class WriteLimiter {
  #inFlight = 0;
  #maxInFlight = 0;
  #completed = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent: number,
    private readonly latencyMs = 0,
  ) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new Error(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    }
  }

  /** Writes in progress now. */
  get inFlight(): number {
    return this.#inFlight;
  }
  /** The most writes ever in progress at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }
  /** Writes finished (successfully or not). */
  get completed(): number {
    return this.#completed;
  }
  /** Writes waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `write` once a slot is free. */
  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#inFlight++;
    }
    // Invariant: the slot was taken for us (either above or by the releaser).
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    try {
      if (this.latencyMs === 0) return await write();
      const [result] = await Promise.all([
        write(),
        new Promise((resolve) => setTimeout(resolve, this.latencyMs)),
      ]);
      return result;
    } finally {
      this.#completed++;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next writer so nobody can overtake it.
      if (next) next();
      else this.#inFlight--;
    }
  }
}
