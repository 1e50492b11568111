import { setTimeout as sleep } from "node:timers/promises";
import { drainerOptionChecks } from "./drainer-error.js";

/** What {@link whenIdle} reads of the source: `MollifierBuffer` satisfies it. */
export interface IdleSource {
  /** `depth`: entries buffered in any state (queued, leased, retrying), everywhere. */
  stats(): Promise<{ readonly depth: number }>;
}

/** Options of {@link whenIdle}. */
export interface WhenIdleOptions {
  /**
   * How often the source's depth and the drainer's in-flight count are read.
   * @default 50
   */
  pollMs?: number;
  /**
   * How long to wait before answering `timed_out`.
   * @default 60000
   */
  timeoutMs?: number;
}

/** {@link WhenIdleOptions.pollMs}'s default. */
export const DEFAULT_IDLE_POLL_MS = 50;
/** {@link WhenIdleOptions.timeoutMs}'s default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** What {@link whenIdle} answers; `depth` and `inFlight` are the last readings. */
export type WhenIdleResult = { outcome: "idle" } | { outcome: "timed_out"; depth: number; inFlight: number };

const check = drainerOptionChecks("WhenIdleOptions");

/**
 * Resolves once nothing is buffered (no entry queued, leased or waiting to
 * retry) and the drainer has no entry in flight: everything accepted so far is
 * materialised or failed. For tests, scripts and graceful hand-overs; a fleet's
 * drainers run forever and never need it. Polls, so a source shared with other
 * producers may never be idle: bounded by `timeoutMs`.
 *
 * @example
 * drainer.start();
 * const idle = await whenIdle(drainer, buffer, { timeoutMs: 10_000 });
 * if (idle.outcome === "timed_out") console.warn(`${idle.depth} entries still buffered`);
 */
export async function whenIdle(
  drainer: { readonly inFlight: number },
  source: IdleSource,
  options: WhenIdleOptions = {},
): Promise<WhenIdleResult> {
  const pollMs = check.integer("pollMs", options.pollMs ?? DEFAULT_IDLE_POLL_MS, 1);
  const timeoutMs = check.integer("timeoutMs", options.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, 0);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { depth } = await source.stats();
    const inFlight = drainer.inFlight;
    if (depth === 0 && inFlight === 0) return { outcome: "idle" };
    if (performance.now() >= deadline) return { outcome: "timed_out", depth, inFlight };
    await sleep(pollMs);
  }
}
