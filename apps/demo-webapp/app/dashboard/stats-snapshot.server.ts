import { tripRatePerSecond } from "../config.server";
import type { AppServices } from "../services.server";
import type { StatsSnapshot } from "./stats-types";

/** The dashboard's data: the last minute of series plus totals. */
export async function statsSnapshot(services: AppServices): Promise<StatsSnapshot> {
  const current = await services.buffer.stats().catch(() => services.stats.lastBufferStats);
  services.stats.bufferStats(current);
  return {
    mode: services.mode,
    now: Date.now(),
    series: services.stats.series(60),
    totals: {
      decisions: services.stats.decisions,
      buffered: services.stats.bufferedTotal,
      drained: services.stats.drainedTotal,
      failed: services.stats.failedTotal,
      dbWrites: services.engine.writes.completed,
      dbMaxInFlight: services.engine.writes.maxInFlight,
      dbWriteLimit: services.engine.writes.maxConcurrent,
      runsInDatabase: await services.engine.countRuns(),
    },
    current,
    limits: {
      envRatePerSecond: tripRatePerSecond(services.config.gate),
      drainRatePerSecond: services.config.drainRatePerSecond,
    },
    burst: { running: services.burst.running, lastReport: services.burst.lastReport },
  };
}
