import type { MollifierRecorder, RunRef } from "@mollifier/telemetry";
import type { AckBatcher, AckSettled } from "./ack-batcher.js";
import type { HandlerSample } from "./adaptive-concurrency.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import type { DrainEntry, DrainFailureKind, DrainSource } from "./drain-source.js";
import type { HeldLease, LeaseKeeper } from "./lease-keeper.js";
import type { TerminalFailureHook } from "./terminal-failure.js";

/** What the drainer passes to a handler besides the entry. */
export interface DrainHandlerContext {
  /** Aborted when the entry's lease is lost or the drainer stops waiting for the handler. */
  readonly signal: AbortSignal;
}

/** Materialises one entry (e.g. writes the run row). Must be idempotent on the run id. */
export type DrainHandler<Entry extends DrainEntry> = (
  entry: Entry,
  context: DrainHandlerContext,
) => Promise<void>;

/** Everything {@link processEntry} needs; the drainer builds it once. */
export interface EntryProcessorContext<Entry extends DrainEntry> {
  readonly source: DrainSource<Entry>;
  /** Sends the acks, coalesced when the source has `ackMany`. */
  readonly acks: AckBatcher<Entry>;
  readonly handler: DrainHandler<Entry>;
  readonly isRetryable: (error: unknown, entry: Entry) => boolean;
  /** Errors that say the handler's dependency is down: they wait on `breaker` instead of settling. */
  readonly isUnavailable: (error: unknown, entry: Entry) => boolean;
  readonly breaker: CircuitBreaker;
  /** Aborted when the drainer stops waiting for its handlers: entries waiting on the breaker give up. */
  readonly abandoned: AbortSignal;
  readonly onTerminalFailure: TerminalFailureHook<Entry> | undefined;
  readonly recorder: MollifierRecorder;
  readonly clock: () => number;
  /** Keeps the entry's lease while its handler runs. */
  readonly leases: LeaseKeeper<Entry>;
}

const MAX_ERROR_TEXT = 2_000;

/** How a handler's run ended without success; `unavailable`: it waited on the breaker and gave up. */
interface HandlerFailure {
  readonly error: unknown;
  readonly unavailable?: true;
}

// A class with the getter on its prototype, so a handler's context costs one
// small object; the signal (an AbortController) is made only for handlers that read it.
class HandlerContext implements DrainHandlerContext {
  constructor(private readonly lease: HeldLease<DrainEntry>) {}

  get signal(): AbortSignal {
    return this.lease.signal;
  }
}

/** An error as the short text stored with a retried or failed entry. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

/**
 * Runs the handler for one leased entry and settles the entry: ack on
 * success; retry, or the terminal hook then fail, on error. Never throws:
 * a source call that fails leaves the entry leased, and the lease reaper
 * returns it once the lease expires. Calls `onDone` once, with the handler's
 * figures (for adaptive concurrency) once the handler's part is done: a
 * failure is settled by then, a success's ack is queued on `context.acks`.
 * `onDone` gets no figures only when a recorder or the injected clock broke
 * its never-throw contract; it must not throw itself.
 *
 * Written with one reaction on the handler's promise and a callback rather
 * than as an async function: this runs once per entry, and a successful entry
 * then costs no promise of its own beyond that reaction.
 */
export function processEntry<Entry extends DrainEntry>(
  leased: Entry,
  context: EntryProcessorContext<Entry>,
  onDone: (sample: HandlerSample | undefined) => void,
): void {
  let lease: HeldLease<Entry>;
  let started: number;
  try {
    lease = context.leases.hold(leased);
    started = context.clock();
  } catch {
    onDone(undefined);
    return;
  }
  const finish = (failure: HandlerFailure | undefined): void => {
    let sample: HandlerSample | Promise<HandlerSample>;
    try {
      sample = handled(lease, started, failure, context);
    } catch {
      onDone(undefined);
      return;
    }
    if (sample instanceof Promise) sample.then(onDone, () => onDone(undefined));
    else onDone(sample);
  };
  const handlerContext = new HandlerContext(lease);
  const run = (): void => {
    let running: unknown;
    try {
      running = context.handler(leased, handlerContext);
    } catch (error) {
      // A handler that throws before returning a promise fails like one that rejects.
      running = Promise.reject(error);
    }
    Promise.resolve(running).then(
      () => {
        context.breaker.recordSuccess();
        finish(undefined);
      },
      (error: unknown) => {
        if (!safeUnavailable(context, error, leased)) {
          finish({ error });
          return;
        }
        // The database is down, not this run: no attempt is spent. The entry keeps its
        // lease (the keeper extends it) and runs again once the breaker lets a call through;
        // given up (the drainer stops, or the lease is lost) it is released, still unspent.
        context.breaker.recordUnavailable();
        const giveUp = AbortSignal.any([lease.signal, context.abandoned]);
        context.breaker.whenCallable(giveUp).then(run, () => finish({ error, unavailable: true }));
      },
    );
  };
  run();
}

/** The rest of {@link processEntry}, once the handler has returned or failed. */
function handled<Entry extends DrainEntry>(
  lease: HeldLease<Entry>,
  started: number,
  failure: HandlerFailure | undefined,
  context: EntryProcessorContext<Entry>,
): HandlerSample | Promise<HandlerSample> {
  const handlerDurationMs = Math.max(0, context.clock() - started);
  const released = context.leases.release(lease);
  // Most releases have no extension on the wire and answer the entry at once.
  if (released instanceof Promise) {
    return released.then((entry) => settle(entry, failure, handlerDurationMs, context));
  }
  return settle(released, failure, handlerDurationMs, context);
}

function settle<Entry extends DrainEntry>(
  entry: Entry,
  failure: HandlerFailure | undefined,
  handlerDurationMs: number,
  context: EntryProcessorContext<Entry>,
): HandlerSample | Promise<HandlerSample> {
  if (failure === undefined) {
    context.acks.ack({ entry, handlerDurationMs });
    return { durationMs: handlerDurationMs, failed: false };
  }
  const ref: RunRef = { orgId: entry.orgId, envId: entry.envId, runId: entry.runId };
  if (failure.unavailable === true && context.source.release !== undefined) {
    // Not the run failing: the sample does not count as a failed one.
    return context.source
      .release(entry)
      .then(
        (result) => {
          if (result.outcome === "lease_lost") {
            context.recorder.degraded({ component: "drainer", reason: "lease_lost", ...ref });
          }
        },
        (error: unknown) => {
          // Still leased: the reaper returns it once the lease expires (that costs an attempt).
          context.recorder.degraded({ component: "drainer", reason: "settle_failed", error, ...ref });
        },
      )
      .then(() => ({ durationMs: handlerDurationMs, failed: false }));
  }
  const retryable = safePredicate(context, failure.error, entry);
  return settleFailure(entry, ref, failure.error, retryable, context).then(() => ({
    durationMs: handlerDurationMs,
    failed: retryable,
  }));
}

/**
 * Records the answer to a drained entry's ack: `drained`, or `degraded` when
 * the lease was lost or the call failed. The handler succeeded, so whatever
 * happens to the ack is not a handler failure: a lost or failed ack leaves
 * the entry to the reaper, and the handler's idempotency absorbs the second
 * delivery.
 */
export function ackRecorder<Entry extends DrainEntry>(
  recorder: MollifierRecorder,
  clock: () => number,
): AckSettled<Entry> {
  return ({ entry, handlerDurationMs }, result, error) => {
    // Fields spelled out rather than spread from a shared reference: this runs once per drained entry.
    const { orgId, envId, runId } = entry;
    if (result === undefined) {
      recorder.degraded({ component: "drainer", reason: "ack_failed", error, orgId, envId, runId });
    } else if (result.outcome === "acked") {
      const timeInBufferMs = Math.max(0, clock() - entry.acceptedAt);
      recorder.drained({ orgId, envId, runId, timeInBufferMs, handlerDurationMs });
    } else {
      recorder.degraded({ component: "drainer", reason: "ack_lease_lost", orgId, envId, runId });
    }
  };
}

async function settleFailure<Entry extends DrainEntry>(
  entry: Entry,
  ref: RunRef,
  error: unknown,
  retryable: boolean,
  context: EntryProcessorContext<Entry>,
): Promise<void> {
  const message = describeError(error);
  try {
    if (!retryable) {
      await terminal(entry, ref, error, message, "terminal", entry.attempts + 1, context);
      return;
    }
    const result = await context.source.retry(entry, { error: message });
    if (result.outcome === "scheduled") {
      context.recorder.retried({
        ...ref,
        attempts: result.attempts,
        delayMs: result.delayMs,
        error: message,
      });
    } else if (result.outcome === "exhausted") {
      await terminal(entry, ref, error, message, "attempts_exhausted", result.attempts, context);
    } else {
      context.recorder.degraded({ component: "drainer", reason: "retry_lease_lost", ...ref });
    }
  } catch (sourceError) {
    context.recorder.degraded({ component: "drainer", reason: "settle_failed", error: sourceError, ...ref });
  }
}

async function terminal<Entry extends DrainEntry>(
  entry: Entry,
  ref: RunRef,
  error: unknown,
  message: string,
  kind: DrainFailureKind,
  attempts: number,
  context: EntryProcessorContext<Entry>,
): Promise<void> {
  let failMessage = message;
  if (context.onTerminalFailure !== undefined) {
    try {
      await context.onTerminalFailure({ ...ref, kind, entry, message, attempts, error });
    } catch (hookError) {
      const hookMessage = describeError(hookError);
      context.recorder.degraded({
        component: "drainer",
        reason: "terminal_hook_failed",
        error: hookError,
        ...ref,
      });
      if (safePredicate(context, hookError, entry)) {
        // The failed-run row was not written: keep the entry so the hook runs again.
        await retryAfterHookFailure(entry, ref, `onTerminalFailure: ${hookMessage}`, context);
        return;
      }
      failMessage = describeError(`${message} (onTerminalFailure: ${hookMessage})`);
    }
  }
  const result = await context.source.fail(entry, { error: failMessage, kind });
  if (result.outcome === "failed") {
    context.recorder.failed({ ...ref, kind, attempts, error: failMessage });
  } else {
    context.recorder.degraded({ component: "drainer", reason: "fail_lease_lost", ...ref });
  }
}

async function retryAfterHookFailure<Entry extends DrainEntry>(
  entry: Entry,
  ref: RunRef,
  message: string,
  context: EntryProcessorContext<Entry>,
): Promise<void> {
  const result = await context.source.retry(entry, { error: message });
  if (result.outcome === "scheduled") {
    context.recorder.retried({ ...ref, attempts: result.attempts, delayMs: result.delayMs, error: message });
  } else if (result.outcome === "exhausted") {
    // No retry budget left, but failing now would drop the failed-run row:
    // the lease is left to expire and the reaper delivers the entry again.
    context.recorder.degraded({ component: "drainer", reason: "terminal_hook_exhausted", ...ref });
  } else {
    context.recorder.degraded({ component: "drainer", reason: "retry_lease_lost", ...ref });
  }
}

function safeUnavailable<Entry extends DrainEntry>(
  context: EntryProcessorContext<Entry>,
  error: unknown,
  entry: Entry,
): boolean {
  try {
    return context.isUnavailable(error, entry);
  } catch {
    // A classifier that throws cannot tell an outage: the run's own retry policy applies.
    return false;
  }
}

function safePredicate<Entry extends DrainEntry>(
  context: EntryProcessorContext<Entry>,
  error: unknown,
  entry: Entry,
): boolean {
  try {
    return context.isRetryable(error, entry);
  } catch {
    // A predicate that throws cannot classify: retrying is the choice that loses nothing.
    return true;
  }
}
