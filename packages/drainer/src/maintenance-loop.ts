import type { MollifierRecorder } from "@mollifier/telemetry";
import type { DrainEntry, DrainSource } from "./drain-source.js";
import { LoopBackoff, type LoopBackoffOptions } from "./loop-backoff.js";
import type { SourceFailure } from "./terminal-failure.js";
import type { WakeSignal } from "./wake-signal.js";

/** What {@link runMaintenance} needs from the drainer. */
export interface MaintenanceLoopOptions<Entry extends DrainEntry> {
  readonly source: DrainSource<Entry>;
  readonly recorder: MollifierRecorder;
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly backoff: LoopBackoffOptions | undefined;
  readonly wake: WakeSignal;
  readonly running: () => boolean;
  /** Called when entries became ready again (reaped or promoted), so the active set is re-read. */
  readonly onReady: () => void;
  /**
   * Called for each expired lease the source failed instead of reaping (attempts used up), and
   * with `redelivered` for each failure the source hands out again because its report was never
   * settled (`claimUnreportedFailures`); must not throw.
   */
  readonly onFailed: (failure: SourceFailure, redelivered?: boolean) => void;
}

const NO_UNREPORTED = Promise.resolve({ failures: [], unavailableShards: [] });

/**
 * The lease reaper, due-retry promoter and unreported-failure sweep, run by
 * every drainer on an interval. Leases the source failed instead of reaping
 * (attempts used up) go to `onFailed` as `lease_expired`, and so do the
 * source's failures whose report is overdue. Safe with several drainers: the source re-checks each lease and
 * retry atomically, so two passes never move one entry twice. Errors are
 * reported as `degraded` and retried with backoff.
 */
export async function runMaintenance<Entry extends DrainEntry>(
  options: MaintenanceLoopOptions<Entry>,
): Promise<void> {
  const backoff = new LoopBackoff(options.backoff);
  const limit = options.batchSize;
  while (options.running()) {
    try {
      const [reap, promote, unreported] = await Promise.all([
        options.source.reapExpiredLeases({ limit }),
        options.source.promoteDueRetries({ limit }),
        options.source.claimUnreportedFailures?.({ limit }) ?? NO_UNREPORTED,
      ]);
      const { promoted } = promote;
      backoff.succeeded();
      // One master down stops only its own shards: they are reported, the others were swept.
      for (const { error } of [
        ...(reap.unavailableShards ?? []),
        ...(promote.unavailableShards ?? []),
        ...(unreported.unavailableShards ?? []),
      ]) {
        options.recorder.degraded({
          component: "drainer",
          reason: "shard_unavailable",
          error,
        });
      }
      const { reaped } = reap;
      if (reaped > 0) options.recorder.reaped({ count: reaped });
      // Expired leases out of attempts (poison entries) were failed by the source, not requeued.
      for (const failure of reap.failedEntries ?? []) {
        const { orgId, envId, runId, attempts, error } = failure;
        options.onFailed({ kind: "lease_expired", orgId, envId, runId, attempts, message: error });
      }
      // Failures whose report nobody settled (a drainer died before its hook ran, or the hook threw).
      for (const failure of unreported.failures) {
        const { orgId, envId, runId, attempts, error } = failure;
        const kind = failure.kind === "invalid_entry" ? "invalid_entry" : "lease_expired";
        options.onFailed({ kind, orgId, envId, runId, attempts, message: error }, true);
      }
      if (reaped > 0 || promoted > 0) options.onReady();
      // A full batch means more are waiting: go again at once.
      const swept = reaped + (reap.failed ?? 0);
      const full = swept >= limit || promoted >= limit || unreported.failures.length >= limit;
      if (!full) await options.wake.sleep(options.intervalMs);
    } catch (error) {
      options.recorder.degraded({ component: "drainer", reason: "maintenance_error", error });
      await options.wake.sleep(backoff.failed());
    }
  }
}
