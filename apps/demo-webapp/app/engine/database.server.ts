import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { openPgliteThread } from "./pglite-thread.server";

/** The one thing the engine needs from Postgres: parameterised queries. */
export interface Database {
  readonly kind: "postgres" | "pglite";
  query<Row extends Record<string, unknown>>(
    sql: string,
    parameters?: readonly unknown[],
  ): Promise<{ rows: Row[]; rowCount: number }>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://...`; embedded PGlite when omitted. */
  readonly databaseUrl?: string | undefined;
  /** Postgres schema to create and use (tests use one per file); default `public`. */
  readonly schema?: string;
  /** PGlite data directory; in memory when omitted. */
  readonly dataDir?: string;
  /** Connections in the pg pool. */
  readonly poolSize?: number;
  /**
   * Where an embedded PGlite runs: its own worker thread, so its queries never block the event
   * loop that answers triggers, or this thread (only to measure the difference).
   * @default "worker"
   */
  readonly embeddedThread?: "worker" | "main";
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens Postgres (a pg Pool) or an embedded PGlite and creates the schema. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const schema = options.schema ?? "public";
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema must match ${SCHEMA_NAME}, got ${schema}`);
  const database =
    options.databaseUrl !== undefined
      ? await openPostgres(options.databaseUrl, schema, options.poolSize ?? 10)
      : options.embeddedThread === "main"
        ? await openPglite(options.dataDir, schema)
        : await openPgliteThread(options.dataDir, schema);
  await createSchema(database);
  return database;
}

let lastIdleErrorLogged = 0;
function onIdleError(error: Error): void {
  // One line every few seconds: a database outage drops every idle connection at once.
  if (Date.now() - lastIdleErrorLogged < 5_000) return;
  lastIdleErrorLogged = Date.now();
  console.error(`database: idle connection lost: ${error.message}`);
}

async function openPostgres(url: string, schema: string, poolSize: number): Promise<Database> {
  const admin = new pg.Client({ connectionString: url });
  admin.on("error", onIdleError);
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: `-c search_path=${schema}` });
  // An idle client whose connection the server drops (a restart, a failover, pg_terminate_backend)
  // is emitted here; without a listener Node ends the process. The pool discards that client and
  // the next query opens a new connection, so an outage surfaces as query errors, not a crash.
  pool.on("error", (error) => onIdleError(error));
  return {
    kind: "postgres",
    async query(sql, parameters) {
      const result = await pool.query(sql, parameters ? [...parameters] : undefined);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string | undefined, schema: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema};`);
  return {
    kind: "pglite",
    async query<Row>(sql: string, parameters?: readonly unknown[]) {
      const result = await db.query<Row>(sql, parameters ? [...parameters] : undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    close: () => db.close(),
  };
}

const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS organizations (
     id text PRIMARY KEY,
     name text NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS environments (
     id text PRIMARY KEY,
     org_id text NOT NULL REFERENCES organizations(id),
     slug text NOT NULL,
     api_key text NOT NULL UNIQUE
   )`,
  `CREATE TABLE IF NOT EXISTS runs (
     id text PRIMARY KEY,
     org_id text NOT NULL,
     env_id text NOT NULL,
     task_id text NOT NULL,
     status text NOT NULL,
     payload jsonb,
     idempotency_key text,
     idempotency_key_expires_at bigint,
     tags text[] NOT NULL DEFAULT '{}',
     metadata jsonb,
     metadata_version integer NOT NULL DEFAULT 0,
     delay_until bigint,
     parent_run_id text,
     one_time_use_token text,
     error text,
     source text NOT NULL,
     created_at bigint NOT NULL,
     written_at bigint NOT NULL
   )`,
  // One run per (env, task, idempotency key): a replayed or racing trigger can never make a second one.
  `CREATE UNIQUE INDEX IF NOT EXISTS runs_idempotency_key
     ON runs (env_id, task_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
  `CREATE UNIQUE INDEX IF NOT EXISTS runs_one_time_use_token
     ON runs (env_id, one_time_use_token) WHERE one_time_use_token IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS runs_env ON runs (env_id, created_at)`,
  // A buffered run that met its idempotency key already held when it drained: its id answers
  // with the run holding the key (docs/adr/0008), so the id its caller holds never fails.
  `CREATE TABLE IF NOT EXISTS run_redirects (
     id text PRIMARY KEY,
     env_id text NOT NULL,
     target_run_id text NOT NULL,
     reason text NOT NULL,
     created_at bigint NOT NULL
   )`,
  // The answer a request carrying `x-trigger-request-idempotency-key` got, replayed to its retries.
  `CREATE TABLE IF NOT EXISTS request_answers (
     env_id text NOT NULL,
     key text NOT NULL,
     status integer NOT NULL,
     body text NOT NULL,
     headers text NOT NULL,
     expires_at bigint NOT NULL,
     PRIMARY KEY (env_id, key)
   )`,
  // trigger.dev's two-step batches: created with a run count, then filled item by item (by index).
  `CREATE TABLE IF NOT EXISTS batches (
     id text PRIMARY KEY,
     env_id text NOT NULL,
     run_count integer NOT NULL,
     idempotency_key text,
     created_at bigint NOT NULL
   )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS batches_idempotency_key
     ON batches (env_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS batch_items (
     batch_id text NOT NULL,
     item_index integer NOT NULL,
     run_id text NOT NULL,
     task_id text NOT NULL,
     PRIMARY KEY (batch_id, item_index)
   )`,
];

async function createSchema(database: Database): Promise<void> {
  for (const statement of SCHEMA_SQL) await database.query(statement);
}
