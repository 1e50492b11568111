import type { Database } from "../engine/database.server";

/**
 * The inspector's index of FAILED records. The buffer keeps each failed entry's record under its
 * run id with no per-env index, so the app notes every terminal failure here (the drainer's
 * terminal-failure hook) and the inspector reads the records back through `getFailed`. Unlike the
 * `SYSTEM_FAILURE` rows, it also names entries whose snapshot could not be read, which never
 * become a row. Rows whose record the buffer no longer keeps are dropped when they are listed.
 */
export const FAILED_ENTRIES_TABLE = "failed_entries";

/** The failed entry's address. */
export interface FailedEntryAddress {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

/** Notes that a run failed terminally at `failedAt`; a run failing again (after a replay) moves up. */
export async function recordFailedEntry(
  database: Database,
  address: FailedEntryAddress,
  failedAt: number,
): Promise<void> {
  await database.query(
    `INSERT INTO ${FAILED_ENTRIES_TABLE} (env_id, run_id, org_id, failed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (env_id, run_id) DO UPDATE SET failed_at = EXCLUDED.failed_at`,
    [address.envId, address.runId, address.orgId, failedAt],
  );
}

/** The env's noted failures, newest first: run ids to read with `getFailed`. */
export async function failedEntryCandidates(
  database: Database,
  address: { readonly orgId: string; readonly envId: string },
  limit: number,
): Promise<string[]> {
  const { rows } = await database.query<{ run_id: string }>(
    `SELECT run_id FROM ${FAILED_ENTRIES_TABLE} WHERE env_id = $1 AND org_id = $2
     ORDER BY failed_at DESC, run_id DESC LIMIT $3`,
    [address.envId, address.orgId, limit],
  );
  return rows.map((row) => String(row.run_id));
}

/** Drops noted failures whose record is gone (replayed, discarded, or past the buffer's retention). */
export async function forgetFailedEntries(
  database: Database,
  envId: string,
  runIds: readonly string[],
): Promise<void> {
  if (runIds.length === 0) return;
  await database.query(`DELETE FROM ${FAILED_ENTRIES_TABLE} WHERE env_id = $1 AND run_id = ANY($2::text[])`, [
    envId,
    [...runIds],
  ]);
}
