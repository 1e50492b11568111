/**
 * Counts the entries whose handling has not finished, and tells who waits
 * for none to be left (a stopping drainer). A counter rather than a set of
 * promises: it changes twice per drained entry.
 */
export class InFlightCount {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** Entries in flight. */
  get size(): number {
    return this.count;
  }

  /** One more entry is being handled. */
  add(): void {
    this.count += 1;
  }

  /** One entry's handling finished; wakes the waiters once none is left. */
  done(): void {
    this.count -= 1;
    if (this.count > 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once no entry is in flight (at once when none is). */
  drained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
