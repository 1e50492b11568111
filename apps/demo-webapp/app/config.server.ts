import { z } from "zod";

/** How the trigger path uses Mollifier. */
export type MollifierMode = "off" | "shadow" | "dual-write" | "mollify";
export const MOLLIFIER_MODES: readonly MollifierMode[] = ["off", "shadow", "dual-write", "mollify"];

/** Everything the app reads from its environment, parsed once at start. */
export interface AppConfig {
  /** `off`: gate never consulted; `shadow`: gate logs only; `dual-write`: buffer and database; `mollify`: buffer only. */
  readonly mode: MollifierMode;
  /** Orgs the gate treats as enrolled; `"*"` for all. */
  readonly enrolledOrgs: readonly string[] | "*";
  /** Triggers per second an env may send before it trips. */
  readonly envRatePerSecond: number;
  /** Sliding window of the trip evaluator, ms. */
  readonly windowMs: number;
  /** How long a tripped env stays tripped after its rate falls back, ms. */
  readonly holdMs: number;
  /** Time the gate may spend on one decision before it fails open, ms. */
  readonly gateTimeBudgetMs: number;
  /** Whether batch items may be mollified (otherwise they bypass the gate). */
  readonly mollifyBatches: boolean;
  /** Runs materialised per second by all drainers together. */
  readonly drainRatePerSecond: number;
  /** Drainer handler concurrency. */
  readonly drainConcurrency: number;
  /** Concurrent writes the database accepts; the rest wait (a database under pressure). */
  readonly maxConcurrentWrites: number;
  /** Artificial latency added to every database write, ms (makes pressure visible on PGlite). */
  readonly writeLatencyMs: number;
  /** Largest accepted request body, bytes. */
  readonly maxPayloadBytes: number;
  /** Whether this process runs the drainer. */
  readonly drainerInProcess: boolean;
  readonly redisUrl: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly port: number;
  readonly host: string;
}

const integer = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(["1", "0", "true", "false", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((value) => value === "1" || value === "true" || value === "yes");

const environmentSchema = z.object({
  MOLLIFIER_MODE: z.enum(["off", "shadow", "dual-write", "mollify"]).default("mollify"),
  MOLLIFIER_ENROLLED_ORGS: z.string().default("*"),
  MOLLIFIER_ENV_RATE: integer(20),
  MOLLIFIER_WINDOW_MS: integer(1_000),
  MOLLIFIER_HOLD_MS: integer(2_000),
  MOLLIFIER_GATE_TIME_BUDGET_MS: integer(250),
  MOLLIFIER_MOLLIFY_BATCHES: flag(false),
  MOLLIFIER_DRAIN_RATE: integer(150),
  MOLLIFIER_DRAIN_CONCURRENCY: integer(4),
  MOLLIFIER_DB_MAX_WRITES: integer(4),
  MOLLIFIER_DB_WRITE_LATENCY_MS: integer(5),
  MOLLIFIER_MAX_PAYLOAD_BYTES: integer(512 * 1024),
  MOLLIFIER_DRAINER: z.enum(["in-process", "separate"]).default("in-process"),
  REDIS_URL: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  PORT: integer(3000),
  HOST: z.string().default("127.0.0.1"),
});

/** Parses the app's configuration; throws a message naming the variable on bad input. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  const parsed = environmentSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid configuration: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const values = parsed.data;
  const enrolled = values.MOLLIFIER_ENROLLED_ORGS.trim();
  return {
    mode: values.MOLLIFIER_MODE,
    enrolledOrgs:
      enrolled === "*"
        ? "*"
        : enrolled
            .split(",")
            .map((org) => org.trim())
            .filter(Boolean),
    envRatePerSecond: values.MOLLIFIER_ENV_RATE,
    windowMs: Math.max(100, values.MOLLIFIER_WINDOW_MS),
    holdMs: values.MOLLIFIER_HOLD_MS,
    gateTimeBudgetMs: Math.max(1, values.MOLLIFIER_GATE_TIME_BUDGET_MS),
    mollifyBatches: values.MOLLIFIER_MOLLIFY_BATCHES,
    drainRatePerSecond: Math.max(1, values.MOLLIFIER_DRAIN_RATE),
    drainConcurrency: Math.max(1, values.MOLLIFIER_DRAIN_CONCURRENCY),
    maxConcurrentWrites: Math.max(1, values.MOLLIFIER_DB_MAX_WRITES),
    writeLatencyMs: values.MOLLIFIER_DB_WRITE_LATENCY_MS,
    maxPayloadBytes: values.MOLLIFIER_MAX_PAYLOAD_BYTES,
    drainerInProcess: values.MOLLIFIER_DRAINER === "in-process",
    redisUrl: values.REDIS_URL,
    databaseUrl: values.DATABASE_URL,
    port: values.PORT,
    host: values.HOST,
  };
}

/** The defaults, with overrides: for tests and embedding. */
export function defaultConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), ...overrides };
}
