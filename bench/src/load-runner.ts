import { performance } from "node:perf_hooks";
import { latencySummary } from "./statistics.js";

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** Operations kept in flight at once (closed loop: a new one starts when one ends). */
  readonly inFlight: number;
  /** How long new operations are started, in ms. */
  readonly durationMs: number;
  /** Items one operation handles, e.g. 100 for a batch of 100. @default 1 */
  readonly itemsPerOperation?: number;
  /** The operation; `sequence` is unique within the loop. Throws on a wrong outcome. */
  readonly operation: (sequence: number) => Promise<unknown>;
}

/** What one closed-loop run measured. */
export interface LoadSample {
  readonly operations: number;
  readonly items: number;
  readonly elapsedMs: number;
  readonly itemsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Keeps `inFlight` operations running for `durationMs`, timing each one on its
 * own (per-operation latency, not batch averages). Throughput counts every
 * completed item over the time until the last operation finished.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadSample> {
  const itemsPerOperation = options.itemsPerOperation ?? 1;
  const timings: number[] = [];
  let sequence = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const current = sequence++;
      const begin = performance.now();
      await options.operation(current);
      timings.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const elapsedMs = performance.now() - started;
  const { p50, p99 } = latencySummary(Float64Array.from(timings));
  const items = timings.length * itemsPerOperation;
  return {
    operations: timings.length,
    items,
    elapsedMs,
    itemsPerSecond: (items / elapsedMs) * 1000,
    p50Ms: p50,
    p99Ms: p99,
  };
}
