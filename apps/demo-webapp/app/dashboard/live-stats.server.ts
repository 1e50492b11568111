import type {
  BufferedEvent,
  BufferStatsEvent,
  ClaimEvent,
  DecisionEvent,
  DegradedEvent,
  DrainedEvent,
  DrainLimitsEvent,
  FailedEvent,
  MollifierRecorder,
  ReapedEvent,
  RetriedEvent,
} from "@mollifier/telemetry";
import type { StatsPoint } from "./stats-types";

interface Bucket {
  t: number;
  passThrough: number;
  shadowLog: number;
  mollify: number;
  depth: number;
  oldestEntryAgeMs: number;
  drained: number;
  dbWrites: number;
  latencies: number[];
}

const KEEP_SECONDS = 120;

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

/**
 * Per-second counters behind the dashboard. It is a {@link MollifierRecorder},
 * so the gate and the drainer report into it directly.
 */
export class LiveStats implements MollifierRecorder {
  readonly #buckets: Bucket[] = [];
  readonly #clock: () => number;
  readonly decisions: Record<string, number> = {};
  bufferedTotal = 0;
  drainedTotal = 0;
  failedTotal = 0;
  degradedTotal = 0;
  lastDegraded: string | undefined;
  lastBufferStats: BufferStatsEvent = { depth: 0, oldestEntryAgeMs: 0, leasesInFlight: 0 };

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  #bucket(): Bucket {
    const t = Math.floor(this.#clock() / 1_000) * 1_000;
    const last = this.#buckets.at(-1);
    if (last && last.t === t) return last;
    // Gauges carry over into seconds in which nothing was sampled.
    const bucket: Bucket = {
      t,
      passThrough: 0,
      shadowLog: 0,
      mollify: 0,
      depth: last?.depth ?? 0,
      oldestEntryAgeMs: last?.oldestEntryAgeMs ?? 0,
      drained: 0,
      dbWrites: 0,
      latencies: [],
    };
    this.#buckets.push(bucket);
    if (this.#buckets.length > KEEP_SECONDS) this.#buckets.shift();
    return bucket;
  }

  decision(event: DecisionEvent): void {
    this.decisions[`${event.action}:${event.reason}`] =
      (this.decisions[`${event.action}:${event.reason}`] ?? 0) + 1;
    const bucket = this.#bucket();
    if (event.action === "mollify") bucket.mollify++;
    else if (event.action === "shadow_log") bucket.shadowLog++;
    else bucket.passThrough++;
  }
  /** A trigger that went straight to the database without consulting the gate (mode `off`). */
  ungated(): void {
    this.decision({ action: "pass_through", reason: "mode_off" });
  }
  buffered(event: BufferedEvent): void {
    if (event.outcome === "accepted") this.bufferedTotal++;
  }
  drained(_event: DrainedEvent): void {
    this.drainedTotal++;
    this.#bucket().drained++;
  }
  failed(_event: FailedEvent): void {
    this.failedTotal++;
  }
  retried(_event: RetriedEvent): void {}
  reaped(_event: ReapedEvent): void {}
  claim(_event: ClaimEvent): void {}
  degraded(event: DegradedEvent): void {
    this.degradedTotal++;
    this.lastDegraded = event.reason;
  }
  drainLimits(_event: DrainLimitsEvent): void {}
  bufferStats(event: BufferStatsEvent): void {
    this.lastBufferStats = event;
    const bucket = this.#bucket();
    bucket.depth = event.depth;
    bucket.oldestEntryAgeMs = event.oldestEntryAgeMs;
  }
  dbWrites(count: number): void {
    this.#bucket().dbWrites += count;
  }
  apiLatency(ms: number): void {
    this.#bucket().latencies.push(ms);
  }

  /** The last `seconds` seconds, oldest first, with empty seconds filled in. */
  series(seconds = 60): StatsPoint[] {
    this.#bucket();
    const now = Math.floor(this.#clock() / 1_000) * 1_000;
    const byTime = new Map(this.#buckets.map((bucket) => [bucket.t, bucket]));
    const points: StatsPoint[] = [];
    let depth = 0;
    let oldest = 0;
    for (let t = now - (seconds - 1) * 1_000; t <= now; t += 1_000) {
      const bucket = byTime.get(t);
      if (bucket) {
        depth = bucket.depth;
        oldest = bucket.oldestEntryAgeMs;
      }
      const sorted = bucket ? [...bucket.latencies].sort((a, b) => a - b) : [];
      points.push({
        t,
        passThrough: bucket?.passThrough ?? 0,
        shadowLog: bucket?.shadowLog ?? 0,
        mollify: bucket?.mollify ?? 0,
        depth,
        oldestEntryAgeMs: oldest,
        drained: bucket?.drained ?? 0,
        dbWrites: bucket?.dbWrites ?? 0,
        apiP50: percentile(sorted, 0.5),
        apiP99: percentile(sorted, 0.99),
        requests: sorted.length,
      });
    }
    return points;
  }
}
