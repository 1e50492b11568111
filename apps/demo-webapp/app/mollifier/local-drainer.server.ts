import type { MollifierRecorder } from "@mollifier/telemetry";
import type { DrainableBuffer, LeasedEntry } from "./buffer-port";
import type { AppDrainer } from "./drainer-port";

/** Thrown by a handler for a failure no retry can fix. */
export class TerminalDrainError extends Error {
  readonly terminal = true;
}

export interface LocalDrainerOptions {
  readonly buffer: DrainableBuffer;
  readonly handler: (entry: LeasedEntry) => Promise<void>;
  readonly onTerminalFailure: (entry: LeasedEntry, error: unknown) => Promise<void>;
  readonly recorder: MollifierRecorder;
  /** Materialisations per second. */
  readonly ratePerSecond: number;
  /** Handlers running at once. */
  readonly concurrency: number;
  /** Idle sleep between empty passes, ms. @default 50 */
  readonly idleMs?: number;
  readonly clock?: () => number;
}

/**
 * Stand-in for `@mollifier/drainer` until it lands: a continuous worker pool,
 * round robin over orgs then envs, a token-bucket rate cap, leases acked only
 * after the handler succeeded.
 */
export function createLocalDrainer(options: LocalDrainerOptions): AppDrainer {
  const clock = options.clock ?? Date.now;
  const idleMs = options.idleMs ?? 50;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let tokens = 0;
  let refilledAt = clock();
  let lastReap = 0;
  const inFlight = new Set<Promise<void>>();
  let orgCursor = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  function takeTokens(wanted: number): number {
    const now = clock();
    tokens = Math.min(options.ratePerSecond, tokens + ((now - refilledAt) * options.ratePerSecond) / 1_000);
    refilledAt = now;
    const granted = Math.min(wanted, Math.floor(tokens));
    tokens -= granted;
    return granted;
  }

  async function process(entry: LeasedEntry): Promise<void> {
    const started = clock();
    try {
      await options.handler(entry);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const terminal = error instanceof TerminalDrainError;
      const retried = terminal ? undefined : await options.buffer.retry(entry, { error: message });
      if (retried?.outcome === "scheduled") {
        options.recorder.retried({
          ...entry,
          attempts: retried.attempts,
          delayMs: retried.delayMs,
          error: message,
        });
        return;
      }
      if (retried?.outcome === "lease_lost") return;
      await options.onTerminalFailure(entry, error);
      await options.buffer.fail(entry, {
        error: message,
        kind: terminal ? "terminal" : "attempts_exhausted",
      });
      options.recorder.failed({
        ...entry,
        kind: terminal ? "terminal" : "attempts_exhausted",
        attempts: entry.attempts,
        error: message,
      });
      return;
    }
    // The run is in the database now; a failed ack only leaves the entry to be
    // reaped and replayed, which the insert-on-conflict makes a no-op.
    await options.buffer.ack(entry).catch(() => undefined);
    options.recorder.drained({
      ...entry,
      timeInBufferMs: clock() - entry.acceptedAt,
      handlerDurationMs: clock() - started,
    });
  }

  async function pass(): Promise<number> {
    if (clock() - lastReap > 1_000) {
      lastReap = clock();
      const { reaped } = await options.buffer.reapExpiredLeases();
      if (reaped > 0) options.recorder.reaped({ count: reaped });
    }
    const ready = await options.buffer.readyEnvs();
    if (ready.length === 0) return 0;
    const byOrg = new Map<string, string[]>();
    for (const { orgId, envId } of ready) byOrg.set(orgId, [...(byOrg.get(orgId) ?? []), envId]);
    const orgs = [...byOrg.keys()].sort();
    let leased = 0;
    for (let turn = 0; turn < orgs.length && running; turn++) {
      const orgId = orgs[(orgCursor + turn) % orgs.length] ?? "";
      const envs = byOrg.get(orgId) ?? [];
      const envId = envs[Math.floor(Math.random() * envs.length)] ?? "";
      const free = options.concurrency - inFlight.size;
      if (free <= 0) break;
      const granted = takeTokens(Math.max(1, Math.ceil(free / orgs.length)));
      if (granted === 0) break;
      const { entries } = await options.buffer.lease({ orgId, envId, count: granted });
      // Unused tokens go back so the cap is a cap on materialisations, not on lease calls.
      tokens += granted - entries.length;
      leased += entries.length;
      for (const entry of entries) {
        const work = process(entry).finally(() => {
          inFlight.delete(work);
          wake?.();
        });
        inFlight.add(work);
      }
    }
    orgCursor = (orgCursor + 1) % Math.max(1, orgs.length);
    return leased;
  }

  async function run(): Promise<void> {
    while (running) {
      let leased = 0;
      try {
        leased = await pass();
      } catch (error) {
        options.recorder.degraded({ component: "drainer", reason: "redis_error", error });
      }
      if (!running) break;
      if (leased === 0 || inFlight.size >= options.concurrency) await sleep(idleMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      options.recorder.drainLimits({
        ratePerSecond: options.ratePerSecond,
        concurrency: options.concurrency,
      });
      loop = run();
    },
    async stop(stopOptions = {}) {
      if (!running) return;
      running = false;
      wake?.();
      await loop;
      const timeout = new Promise<void>((resolve) =>
        setTimeout(resolve, stopOptions.timeoutMs ?? 10_000).unref(),
      );
      await Promise.race([Promise.allSettled([...inFlight]), timeout]);
    },
  };
}
