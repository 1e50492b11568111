import { randomBytes } from "node:crypto";
import type { LeasedEntry } from "@mollifier/buffer";
import type { Redis } from "ioredis";
import { dispatchApi } from "../app/api/api-routes.server";
import { type AppConfigOverrides, defaultConfig } from "../app/config.server";
import { type Database, openDatabase } from "../app/engine/database.server";
import { SEEDED_ENVIRONMENTS } from "../app/engine/seed.server";
import { type AppServices, createAppServices } from "../app/services.server";

/** The database of one test file: a fresh Postgres schema when DATABASE_URL is set, else an in-memory PGlite. */
export async function openTestDatabase(): Promise<Database & { readonly schema: string }> {
  const url = process.env.DATABASE_URL;
  const schema = url ? `demo_test_${randomBytes(5).toString("hex")}` : "public";
  const database = await openDatabase({ databaseUrl: url, schema, poolSize: 6 });
  return {
    ...database,
    schema,
    async close() {
      if (url) await database.query(`DROP SCHEMA ${schema} CASCADE`);
      await database.close();
    },
  };
}

/**
 * Wraps a database to measure, independently of the engine's limiter, how many
 * writes the database itself holds at once.
 */
export function countingDatabase(database: Database): Database & { maxConcurrentWrites(): number } {
  let inFlight = 0;
  let max = 0;
  return {
    kind: database.kind,
    close: () => database.close(),
    maxConcurrentWrites: () => max,
    async query(sql, parameters) {
      const write = /^\s*(INSERT|UPDATE|DELETE)/i.test(sql) && !/organizations|environments/.test(sql);
      if (write) max = Math.max(max, ++inFlight);
      try {
        return await database.query(sql, parameters);
      } finally {
        if (write) inFlight--;
      }
    },
  } as Database & { maxConcurrentWrites(): number };
}

export const [ACME_PROD, ACME_STAGING, GLOBEX_PROD] = SEEDED_ENVIRONMENTS;

/** The gate's fail-open budget in tests, ms (the app's default is the gate's 25 ms). */
const TEST_GATE_TIME_BUDGET_MS = 250;

export interface Harness {
  readonly services: AppServices;
  /** Calls the API in-process, through the route table the server dispatches with. */
  api(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; rawBody?: string },
  ): Promise<ApiAnswer>;
  /** Resolves once the buffer is empty and nothing is leased; rejects after `timeoutMs`. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: API answers are JSON read by assertions
  readonly body: any;
}

/** An app over the file's Redis and database, in the given mode. */
export async function createHarness(options: {
  redis: Redis;
  database: Database;
  config?: AppConfigOverrides;
  runDrainer?: boolean;
  beforeMaterialise?: (entry: LeasedEntry) => void | Promise<void>;
}): Promise<Harness> {
  await options.database.query("TRUNCATE runs");
  const services = await createAppServices({
    config: defaultConfig({
      writeLatencyMs: 0,
      ...options.config,
      // The shared test machine stalls far longer than a production process; a divert test
      // must not see the gate fail open because the test runner was descheduled.
      gate: { timeBudgetMs: TEST_GATE_TIME_BUDGET_MS, ...options.config?.gate },
    }),
    redis: options.redis,
    database: options.database,
    runDrainer: options.runDrainer ?? true,
    ...(options.beforeMaterialise ? { beforeMaterialise: options.beforeMaterialise } : {}),
  });
  return {
    services,
    async api(method, path, request = {}) {
      const url = new URL(path, "http://demo.test");
      const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
      const answer = await dispatchApi(
        new Request(url, {
          method,
          headers: {
            "content-type": "application/json",
            ...(request.key === "" ? {} : { authorization: `Bearer ${request.key ?? ACME_PROD?.apiKey}` }),
          },
          ...(body !== undefined ? { body } : {}),
        }),
        services,
      );
      return { status: answer.status, headers: answer.headers, body: await answer.json() };
    },
    async drained(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = await services.buffer.stats();
        if (stats.depth === 0 && stats.leasesInFlight === 0) return;
        if (Date.now() > deadline)
          throw new Error(`buffer not drained after ${timeoutMs} ms: ${JSON.stringify(stats)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => services.close(),
  };
}

/** Rows per run id in the database, for exactly-once checks. */
export async function rowsPerRun(database: Database): Promise<Map<string, number>> {
  const result = await database.query("SELECT id, count(*)::integer AS n FROM runs GROUP BY id");
  return new Map(result.rows.map((row) => [String(row.id), Number(row.n)]));
}
