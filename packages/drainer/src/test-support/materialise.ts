import type { Redis } from "ioredis";

/** The chaos test's "runs table": a hash keyed by run id, so a second write of a run is a no-op. */
export const RUNS_TABLE = "{chaos}:runs";
/** Counts writes the table's unique run id absorbed (deliveries after a lease expired). */
export const DUPLICATES = "{chaos}:duplicates";

/** Idempotent materialisation, as the app's handler would do with a unique run id column. */
export async function materialise(redis: Redis, runId: string, writer: string): Promise<void> {
  const inserted = await redis.hsetnx(RUNS_TABLE, runId, writer);
  if (inserted === 0) await redis.incr(DUPLICATES);
}
