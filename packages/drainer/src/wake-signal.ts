/**
 * A sleep that can be cut short. The drainer's loops sleep on it when idle or
 * backing off; `wake()` (called by `stop()`, or when a worker slot frees up)
 * ends every current sleep at once.
 */
export class WakeSignal {
  private waiters = new Set<() => void>();

  /** Resolves after `ms`, or earlier on {@link wake}. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }

  /** Ends every pending {@link sleep}. */
  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }
}
