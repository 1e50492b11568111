import type { Database } from "./database.server";
import { createdRecord, type NewRun, type RunRecord, toRecord } from "./run-record";
import { WriteLimiter } from "./write-limiter.server";

export type CreateRunResult =
  | { outcome: "created"; run: RunRecord }
  | { outcome: "duplicate_run"; run: RunRecord }
  | { outcome: "duplicate_idempotency"; run: RunRecord }
  | { outcome: "one_time_token_used" };

export type CancelRunResult =
  | { outcome: "canceled"; run: RunRecord }
  | { outcome: "not_cancelable"; run: RunRecord }
  | { outcome: "not_found" };

export type UpdateRunResult =
  | { outcome: "updated"; run: RunRecord }
  | { outcome: "too_many_tags"; limit: number }
  | { outcome: "version_conflict"; version: number }
  | { outcome: "not_found" };

export interface RunEngineOptions {
  readonly database: Database;
  /** Concurrent writes the database accepts. @default 4 */
  readonly maxConcurrentWrites?: number;
  /** Artificial latency per write, ms. @default 0 */
  readonly writeLatencyMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Tags a run may carry. @default 10 */
  readonly maxTags?: number;
}

export const DEFAULT_MAX_CONCURRENT_WRITES = 4;
export const DEFAULT_MAX_TAGS = 10;

/**
 * A small run engine over Postgres. Every write goes through one
 * {@link WriteLimiter}, so the database never holds more concurrent writes
 * than its limit, whoever writes (API or drainer).
 */
export class RunEngine {
  readonly writes: WriteLimiter;
  readonly #database: Database;
  readonly #clock: () => number;
  readonly maxTags: number;

  constructor(options: RunEngineOptions) {
    this.#database = options.database;
    this.#clock = options.clock ?? Date.now;
    this.maxTags = options.maxTags ?? DEFAULT_MAX_TAGS;
    this.writes = new WriteLimiter(
      options.maxConcurrentWrites ?? DEFAULT_MAX_CONCURRENT_WRITES,
      options.writeLatencyMs ?? 0,
    );
  }

  get database(): Database {
    return this.#database;
  }

  /**
   * Inserts a run keyed by its pre-minted id. A replay of the same id, or a
   * second run for the same (env, task, idempotency key), writes nothing and
   * answers with the run already stored.
   */
  async createRun(run: NewRun): Promise<CreateRunResult> {
    let writtenAt = 0; // when the write gets its slot
    const inserted = await this.writes.run(() => {
      writtenAt = this.#clock();
      return this.#database.query(
        `INSERT INTO runs (id, org_id, env_id, task_id, status, payload, idempotency_key,
           idempotency_key_expires_at, tags, metadata, metadata_version, delay_until, parent_run_id,
           one_time_use_token, error, source, created_at, written_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [
          run.id,
          run.orgId,
          run.envId,
          run.taskId,
          run.status,
          JSON.stringify(run.payload ?? null),
          run.idempotencyKey ?? null,
          run.idempotencyKeyExpiresAt ?? null,
          [...run.tags],
          run.metadata === undefined ? null : JSON.stringify(run.metadata),
          run.metadataVersion ?? 0,
          run.delayUntil ?? null,
          run.parentRunId ?? null,
          run.oneTimeUseToken ?? null,
          run.error ?? null,
          run.source,
          run.createdAt,
          writtenAt,
        ],
      );
    });
    // RETURNING id, not *: the created row is what was sent, and PGlite spent about a third of
    // each insert encoding and decoding the whole row (the payload above all) back.
    if (inserted.rows.length > 0) return { outcome: "created", run: createdRecord(run, writtenAt) };
    const existing = await this.findRun(run.envId, run.id);
    if (existing) return { outcome: "duplicate_run", run: existing };
    if (run.idempotencyKey !== undefined) {
      const winner = await this.findByIdempotencyKey(run.envId, run.taskId, run.idempotencyKey);
      if (winner) return { outcome: "duplicate_idempotency", run: winner };
    }
    return { outcome: "one_time_token_used" };
  }

  /**
   * Records that `runId` (a buffered run whose idempotency key another run
   * already held when it drained) answers with `targetRunId` from now on.
   * Idempotent: a second delivery of the same entry changes nothing.
   */
  async redirectRun(envId: string, runId: string, targetRunId: string, reason: string): Promise<void> {
    await this.writes.run(() =>
      this.#database.query(
        `INSERT INTO run_redirects (id, env_id, target_run_id, reason, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [runId, envId, targetRunId, reason, this.#clock()],
      ),
    );
  }

  /** The run `runId` was redirected to (see {@link redirectRun}), or undefined. */
  async findRedirect(envId: string, runId: string): Promise<string | undefined> {
    const result = await this.#database.query<{ target_run_id: string }>(
      "SELECT target_run_id FROM run_redirects WHERE id = $1 AND env_id = $2",
      [runId, envId],
    );
    return result.rows[0]?.target_run_id;
  }

  /** A run of this env, or undefined: another env's run is never returned. */
  async findRun(envId: string, runId: string): Promise<RunRecord | undefined> {
    const result = await this.#database.query("SELECT * FROM runs WHERE id = $1 AND env_id = $2", [
      runId,
      envId,
    ]);
    const row = result.rows[0];
    return row ? toRecord(row) : undefined;
  }

  /** The run holding this idempotency key; an expired key is released first. */
  async findByIdempotencyKey(envId: string, taskId: string, key: string): Promise<RunRecord | undefined> {
    const result = await this.#database.query(
      "SELECT * FROM runs WHERE env_id = $1 AND task_id = $2 AND idempotency_key = $3",
      [envId, taskId, key],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    const run = toRecord(row);
    if (run.idempotencyKeyExpiresAt !== undefined && run.idempotencyKeyExpiresAt <= this.#clock()) {
      await this.resetIdempotencyKey(envId, taskId, key);
      return undefined;
    }
    return run;
  }

  /** Frees an idempotency key so the next trigger with it creates a new run; answers the runs that held it. */
  async resetIdempotencyKey(envId: string, taskId: string, key: string): Promise<string[]> {
    const result = await this.writes.run(() =>
      this.#database.query(
        `UPDATE runs SET idempotency_key = NULL, idempotency_key_expires_at = NULL
         WHERE env_id = $1 AND task_id = $2 AND idempotency_key = $3 RETURNING id`,
        [envId, taskId, key],
      ),
    );
    return result.rows.map((row) => String(row.id));
  }

  /** Moves a delayed run's start; only a run still DELAYED can be rescheduled. */
  async rescheduleRun(
    envId: string,
    runId: string,
    delayUntil: number,
  ): Promise<
    | { outcome: "updated"; run: RunRecord }
    | { outcome: "not_delayed"; run: RunRecord }
    | { outcome: "not_found" }
  > {
    const result = await this.writes.run(() =>
      this.#database.query(
        "UPDATE runs SET delay_until = $3 WHERE id = $1 AND env_id = $2 AND status = 'DELAYED' RETURNING *",
        [runId, envId, delayUntil],
      ),
    );
    const row = result.rows[0];
    if (row) return { outcome: "updated", run: toRecord(row) };
    const existing = await this.findRun(envId, runId);
    return existing ? { outcome: "not_delayed", run: existing } : { outcome: "not_found" };
  }

  async cancelRun(envId: string, runId: string): Promise<CancelRunResult> {
    const result = await this.writes.run(() =>
      this.#database.query(
        `UPDATE runs SET status = 'CANCELED' WHERE id = $1 AND env_id = $2
           AND status IN ('QUEUED', 'DELAYED') RETURNING *`,
        [runId, envId],
      ),
    );
    const row = result.rows[0];
    if (row) return { outcome: "canceled", run: toRecord(row) };
    const existing = await this.findRun(envId, runId);
    return existing ? { outcome: "not_cancelable", run: existing } : { outcome: "not_found" };
  }

  async addTags(envId: string, runId: string, tags: readonly string[]): Promise<UpdateRunResult> {
    const existing = await this.findRun(envId, runId);
    if (!existing) return { outcome: "not_found" };
    const merged = [...new Set([...existing.tags, ...tags])];
    if (merged.length > this.maxTags) return { outcome: "too_many_tags", limit: this.maxTags };
    const result = await this.writes.run(() =>
      this.#database.query("UPDATE runs SET tags = $3 WHERE id = $1 AND env_id = $2 RETURNING *", [
        runId,
        envId,
        merged,
      ]),
    );
    const row = result.rows[0];
    return row ? { outcome: "updated", run: toRecord(row) } : { outcome: "not_found" };
  }

  /** Replaces metadata; with `expectedVersion`, only if the stored version still matches. */
  async setMetadata(
    envId: string,
    runId: string,
    metadata: unknown,
    expectedVersion: number | undefined,
  ): Promise<UpdateRunResult> {
    const result = await this.writes.run(() =>
      this.#database.query(
        `UPDATE runs SET metadata = $3::jsonb, metadata_version = metadata_version + 1
         WHERE id = $1 AND env_id = $2 AND ($4::integer IS NULL OR metadata_version = $4::integer)
         RETURNING *`,
        [runId, envId, JSON.stringify(metadata ?? null), expectedVersion ?? null],
      ),
    );
    const row = result.rows[0];
    if (row) return { outcome: "updated", run: toRecord(row) };
    const existing = await this.findRun(envId, runId);
    return existing
      ? { outcome: "version_conflict", version: existing.metadataVersion }
      : { outcome: "not_found" };
  }

  /**
   * A page of an env's runs, newest first: ids and creation times strictly
   * before `before` (by creation time, then id), of `taskIds` when given.
   */
  async listRunIds(
    envId: string,
    options: {
      readonly before?: { readonly createdAt: number; readonly id: string };
      readonly taskIds?: readonly string[];
      readonly limit: number;
    },
  ): Promise<Array<{ id: string; createdAt: number }>> {
    const result = await this.#database.query(
      `SELECT id, created_at FROM runs
       WHERE env_id = $1
         AND ($2::bigint IS NULL OR (created_at, id) < ($2::bigint, $3::text))
         AND ($4::text[] IS NULL OR task_id = ANY($4::text[]))
       ORDER BY created_at DESC, id DESC
       LIMIT $5`,
      [
        envId,
        options.before?.createdAt ?? null,
        options.before?.id ?? "",
        options.taskIds ? [...options.taskIds] : null,
        options.limit,
      ],
    );
    return result.rows.map((row) => ({ id: String(row.id), createdAt: Number(row.created_at) }));
  }

  /** Runs among `runIds` that are in the database. */
  async verifyRuns(runIds: readonly string[]): Promise<{ found: Set<string>; rows: number }> {
    const found = new Set<string>();
    let rows = 0;
    for (let start = 0; start < runIds.length; start += 1_000) {
      const chunk = runIds.slice(start, start + 1_000);
      const result = await this.#database.query("SELECT id FROM runs WHERE id = ANY($1::text[])", [chunk]);
      rows += result.rows.length;
      for (const row of result.rows) found.add(String(row.id));
    }
    return { found, rows };
  }

  /**
   * Verifies a burst: of `runIds` (the ids the API answered with), how many
   * are missing from the database, and how many rows stand for a trigger that
   * already has one (same env and key, or same sequence number without a key).
   */
  async verifyBurst(
    burstId: string,
    runIds: readonly string[],
  ): Promise<{ runsInDatabase: number; runsLost: number; runsDuplicated: number }> {
    const result = await this.#database.query(
      "SELECT id, env_id, payload->>'seq' AS seq, payload->>'key' AS key FROM runs WHERE payload->>'burstId' = $1",
      [burstId],
    );
    const ids = new Set(result.rows.map((row) => String(row.id)));
    const identities = new Set(
      result.rows.map((row) => (row.key ? `key:${row.env_id}:${row.key}` : `seq:${row.seq}`)),
    );
    return {
      runsInDatabase: result.rows.length,
      runsLost: new Set(runIds.filter((id) => !ids.has(id))).size,
      runsDuplicated: result.rows.length - identities.size,
    };
  }

  async countRuns(): Promise<number> {
    const result = await this.#database.query("SELECT count(*)::integer AS n FROM runs");
    return Number(result.rows[0]?.n ?? 0);
  }
}
