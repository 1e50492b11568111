import type { StatsSnapshot } from "../dashboard/stats-types";
import type { BurstSendResult } from "./burst-generator";

/** The burst report, as printed and written as JSON. */
export interface BurstReport {
  readonly burstId: string;
  readonly mode: string;
  readonly sent: number;
  readonly accepted: number;
  /** New runs written to the database inside the request. */
  readonly created: number;
  /** New runs the buffer took; idempotent hits are not among them. */
  readonly mollified: number;
  readonly cached: number;
  readonly failed: number;
  readonly statusCounts: Record<string, number>;
  readonly apiP50Ms: number;
  readonly apiP99Ms: number;
  readonly peakDbWritesPerSecond: number;
  readonly dbWriteLimit: number;
  readonly dbMaxConcurrentWrites: number;
  readonly sendDurationMs: number;
  readonly requestedRatePerSecond: number;
  /** The rate actually sent (see `achievedRate`). */
  readonly achievedRatePerSecond: number;
  /** From the end of sending until the buffer was empty; `null` if it did not empty in time. */
  readonly timeToDrainMs: number | null;
  readonly runsInDatabase: number;
  readonly runsLost: number;
  readonly runsDuplicated: number;
}

/** What `/internal/bursts/verify` answers. */
export interface BurstVerification {
  readonly runsInDatabase: number;
  readonly runsLost: number;
  readonly runsDuplicated: number;
}

/**
 * Waits for the buffer to drain (polling the stats route), then verifies the
 * burst against the database through the app.
 */
export async function finishBurst(
  baseUrl: string,
  sent: BurstSendResult,
  options: { drainTimeoutMs?: number; pollMs?: number; onPoll?: (stats: StatsSnapshot) => void } = {},
): Promise<BurstReport> {
  const sentAt = sent.startedAt + sent.sendDurationMs;
  const deadline = Date.now() + (options.drainTimeoutMs ?? 120_000);
  let timeToDrainMs: number | null = null;
  let stats: StatsSnapshot | undefined;
  let peak = 0;
  for (;;) {
    const response = await fetch(`${baseUrl}/dashboard/stats`);
    stats = (await response.json()) as StatsSnapshot;
    options.onPoll?.(stats);
    for (const point of stats.series)
      if (point.t >= sent.startedAt - 1_000) peak = Math.max(peak, point.dbWrites);
    if (stats.current.depth === 0 && stats.current.leasesInFlight === 0) {
      timeToDrainMs = Math.max(0, Date.now() - sentAt);
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
  // One more second so the last writes are counted in the series.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const last = (await (await fetch(`${baseUrl}/dashboard/stats`)).json()) as StatsSnapshot;
  for (const point of last.series)
    if (point.t >= sent.startedAt - 1_000) peak = Math.max(peak, point.dbWrites);
  const verification = (await (
    await fetch(`${baseUrl}/internal/bursts/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ burstId: sent.burstId, runIds: sent.runIds }),
    })
  ).json()) as BurstVerification;
  return {
    burstId: sent.burstId,
    mode: last.mode,
    sent: sent.sent,
    accepted: sent.accepted,
    created: sent.created,
    mollified: sent.mollified,
    cached: sent.cached,
    failed: sent.failed,
    statusCounts: sent.statusCounts,
    apiP50Ms: sent.apiP50Ms,
    apiP99Ms: sent.apiP99Ms,
    peakDbWritesPerSecond: peak,
    dbWriteLimit: last.totals.dbWriteLimit,
    dbMaxConcurrentWrites: last.totals.dbMaxInFlight,
    sendDurationMs: sent.sendDurationMs,
    requestedRatePerSecond: sent.requestedRatePerSecond,
    achievedRatePerSecond: sent.achievedRatePerSecond,
    timeToDrainMs,
    ...verification,
  };
}
