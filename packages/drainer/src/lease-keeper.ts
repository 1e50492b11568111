import type { MollifierRecorder } from "@mollifier/telemetry";
import type { DrainEntry, DrainSource } from "./drain-source.js";

/** Extends one entry's lease on an interval while its handler runs. */
export interface LeaseKeeper<Entry extends DrainEntry> {
  /** The entry with its latest lease deadline. */
  readonly entry: Entry;
  /** Aborted when the lease is lost or the drainer gives up on the handler. */
  readonly signal: AbortSignal;
  /** Stops extending; resolves once an extension in progress has settled. */
  stop(): Promise<void>;
}

export interface LeaseKeeperOptions<Entry extends DrainEntry> {
  readonly source: DrainSource<Entry>;
  readonly recorder: MollifierRecorder;
  readonly leaseMs: number;
  readonly intervalMs: number;
  /** Aborted when the drainer stops waiting for its handlers (stop timed out). */
  readonly abandon: AbortSignal;
}

/**
 * Starts extending `entry`'s lease every `intervalMs` until stopped. A lost
 * lease (the reaper returned the entry, another drainer may now hold it)
 * aborts the handler's signal; a failed extension is reported and retried at
 * the next interval. When the drainer abandons its handlers (stop timed out)
 * extensions stop, so the lease expires and another drainer takes the entry.
 */
export function keepLease<Entry extends DrainEntry>(
  entry: Entry,
  options: LeaseKeeperOptions<Entry>,
): LeaseKeeper<Entry> {
  // Created only when the handler reads its signal: most handlers never do,
  // and an AbortController per entry is a measurable share of a fast drain.
  let controller: AbortController | undefined;
  let abortReason: Error | undefined;
  const abort = (reason: Error) => {
    abortReason ??= reason;
    controller?.abort(abortReason);
  };
  let current = entry;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let extending: Promise<void> = Promise.resolve();
  const ref = { orgId: entry.orgId, envId: entry.envId, runId: entry.runId };

  const onAbandon = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    abort(new Error("the drainer stopped waiting for this handler"));
  };
  if (options.abandon.aborted) onAbandon();
  else options.abandon.addEventListener("abort", onAbandon, { once: true });

  const extend = async () => {
    try {
      const result = await options.source.extendLease(current, options.leaseMs);
      if (result.outcome === "extended") {
        current = { ...current, leaseDeadline: result.leaseDeadline };
      } else {
        stopped = true;
        options.recorder.degraded({ component: "drainer", reason: "lease_lost", ...ref });
        abort(new Error("the entry's lease was lost"));
      }
    } catch (error) {
      options.recorder.degraded({ component: "drainer", reason: "lease_extend_failed", error, ...ref });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      extending = extend().then(schedule);
    }, options.intervalMs);
  };
  schedule();

  return {
    get entry() {
      return current;
    },
    get signal() {
      if (controller === undefined) {
        controller = new AbortController();
        if (abortReason !== undefined) controller.abort(abortReason);
      }
      return controller.signal;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      options.abandon.removeEventListener("abort", onAbandon);
      await extending;
    },
  };
}
