/**
 * A sleep that can be cut short. The drainer's loops sleep on it when idle or
 * backing off; `wake()` (when a worker slot frees up) ends every current
 * sleep; `close()` (called by `stop()`) also makes every later sleep return at
 * once, so a loop that was busy when stop was called cannot start a long
 * sleep afterwards.
 */
export class WakeSignal {
  private waiters = new Set<() => void>();
  private closed = false;

  /** Resolves after `ms`, or earlier on {@link wake} or {@link close}; at once while closed. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
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
    // Called once per finished handler: with nobody asleep, nothing is copied.
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /** Wakes every sleeper and keeps later sleeps from waiting until {@link open}. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Lets sleeps wait again. */
  open(): void {
    this.closed = false;
  }
}
