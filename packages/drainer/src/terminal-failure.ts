import type { MollifierRecorder } from "@mollifier/telemetry";
import type { DrainEntry, DrainFailedEntry, DrainRunAddress, DrainSource } from "./drain-source.js";

/**
 * Why an entry ended terminally:
 * - `terminal`: the handler threw an error `isRetryable` calls non-retryable;
 * - `attempts_exhausted`: the handler kept failing retryably until the source's attempt bound;
 * - `lease_expired`: its leases kept expiring unsettled (a consumer that crashes or hangs on it)
 *   until the source's attempt bound, and the lease reaper failed it;
 * - `invalid_entry`: the source could not decode it at lease time (e.g. a snapshot that no longer parses).
 */
export type TerminalFailureKind = "terminal" | "attempts_exhausted" | "lease_expired" | "invalid_entry";

interface TerminalFailureFields {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  /** The error as text, as stored with the failed entry. */
  readonly message: string;
  /** Deliveries made, the failed one included (0 for `invalid_entry`). */
  readonly attempts: number;
}

/**
 * What `onTerminalFailure` receives, whichever way the entry failed. One
 * shape for every kind: the ids, the entry as far as it could be read, the
 * error text and the attempts.
 */
export type TerminalFailure<Entry extends DrainEntry> =
  | (TerminalFailureFields & {
      /** The handler failed: the drainer calls the hook before it fails the entry. */
      readonly kind: "terminal" | "attempts_exhausted";
      /** The leased entry, whole. */
      readonly entry: Entry;
      /** The handler's error, as thrown. */
      readonly error: unknown;
    })
  | (TerminalFailureFields & {
      /** The source failed the entry itself: the hook runs after it is failed. */
      readonly kind: "lease_expired" | "invalid_entry";
      /** What the source's `getFailed` still reads of it; `undefined` when it has none. */
      readonly entry: DrainFailedEntry<Entry> | undefined;
      /** The source's error text (the same as `message`). */
      readonly error: string;
    });

/** The hook every terminal failure reaches. */
export type TerminalFailureHook<Entry extends DrainEntry> = (
  failure: TerminalFailure<Entry>,
) => Promise<void>;

/** An entry the source failed itself, as the drainer learns of it. */
export interface SourceFailure extends DrainRunAddress {
  readonly kind: "lease_expired" | "invalid_entry";
  readonly attempts: number;
  readonly message: string;
}

/**
 * Delivers the failures the source made itself (the reaper's, invalid entries
 * at lease) to `onTerminalFailure`, beside the loop that learnt of them, so a
 * slow hook holds neither leasing nor reaping. The entry is already FAILED in
 * the source. Once the hook has run (or when there is none) the report is
 * settled with the source (`settleFailureReport`); a hook that throws is
 * reported as `degraded` (`terminal_hook_failed`) and left unsettled, so a
 * source that keeps unreported failures hands it out again later, to this
 * drainer or another (at least once, as a crashed drainer's would be).
 */
export class SourceFailureReporter<Entry extends DrainEntry> {
  /** Deliveries running, by run: a second hand-out of a run being delivered waits for the next. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly source: DrainSource<Entry>,
    private readonly hook: TerminalFailureHook<Entry> | undefined,
    private readonly recorder: MollifierRecorder,
  ) {}

  /** Hooks still running. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Records the failure and runs the hook for it; never throws. `redelivered`: the source handed
   * it out again (its first report was never settled), so it was counted as failed already.
   */
  report(failure: SourceFailure, redelivered = false): void {
    const { orgId, envId, runId, attempts, message } = failure;
    const run = `${orgId}\u0000${envId}\u0000${runId}`;
    if (this.running.has(run)) return;
    if (!redelivered) {
      // Metrics keep the buffer's kinds: an entry reaped out of attempts is `attempts_exhausted` there.
      const kind = failure.kind === "lease_expired" ? "attempts_exhausted" : failure.kind;
      try {
        this.recorder.failed({ orgId, envId, runId, kind, attempts, error: message });
      } catch {
        // A recorder that throws broke its contract; the hook still runs.
      }
    }
    this.running.set(
      run,
      this.deliver(failure).finally(() => this.running.delete(run)),
    );
  }

  /** Resolves once every hook started so far has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async deliver(failure: SourceFailure): Promise<void> {
    const { orgId, envId, runId, kind, attempts, message } = failure;
    if (this.hook !== undefined) {
      try {
        const entry = await this.source.getFailed?.({ orgId, envId, runId });
        await this.hook({ kind, orgId, envId, runId, entry, message, attempts, error: message });
      } catch (error) {
        this.degraded("terminal_hook_failed", error, failure);
        return;
      }
    }
    try {
      await this.source.settleFailureReport?.({ orgId, envId, runId });
    } catch (error) {
      // Unsettled, it is handed out again later: the hook may run twice, never not at all.
      this.degraded("settle_failed", error, failure);
    }
  }

  private degraded(reason: "terminal_hook_failed" | "settle_failed", error: unknown, failure: SourceFailure) {
    const { orgId, envId, runId } = failure;
    try {
      this.recorder.degraded({ component: "drainer", reason, error, orgId, envId, runId });
    } catch {
      // Nothing is left to tell; the FAILED record stays in the source.
    }
  }
}
