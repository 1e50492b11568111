import {
  type GateConfig,
  type GateConfigInput,
  parseGateConfig,
  parseGateConfigFromEnv,
} from "@mollifier/gate";
import { z } from "zod/v4";

/** How the trigger path uses Mollifier. */
export type MollifierMode = "off" | "shadow" | "dual-write" | "mollify";
export const MOLLIFIER_MODES: readonly MollifierMode[] = ["off", "shadow", "dual-write", "mollify"];

/**
 * The gate's tunables, read by `@mollifier/gate`'s own `parseGateConfigFromEnv`
 * (its variables, its defaults). The kill switch and shadow mode are not among
 * them: `MOLLIFIER_MODE` decides both (see `gateCascadeFor`).
 */
export type GateSettings = Omit<GateConfig, "enabled" | "shadowMode">;

/** Everything the app reads from its environment, parsed once at start. */
export interface AppConfig {
  /** `off`: gate never consulted; `shadow`: gate logs only; `dual-write`: buffer and database; `mollify`: buffer only. */
  readonly mode: MollifierMode;
  /** Orgs the gate treats as enrolled; `"*"` for all. */
  readonly enrolledOrgs: readonly string[] | "*";
  /** Trip budget, window, hold, time budget and batch support, as `@mollifier/gate` parses them. */
  readonly gate: GateSettings;
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
  /**
   * Most runs one env (`maxEnvDepth`) or one org (`maxOrgDepth`) may have buffered; a trigger the
   * buffer refuses beyond is answered 429 with `Retry-After`. Unset: no cap.
   */
  readonly maxEnvDepth: number | undefined;
  readonly maxOrgDepth: number | undefined;
  /** Whether this process runs the drainer. */
  readonly drainerInProcess: boolean;
  /**
   * What a keyed trigger gets while Redis (the claim and the buffer's index) cannot be read and
   * the database does not hold the key: `strict` answers 503 with `Retry-After`, so a run still
   * buffered under the key cannot be duplicated; `lenient` writes to the database, and a buffered
   * run that later meets its key taken resolves to the run holding it (docs/adr/0008).
   */
  readonly idempotencyDuringRedisOutage: "strict" | "lenient";
  readonly redisUrl: string | undefined;
  /**
   * Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES=host:port,host:port`); when set the app
   * uses the cluster instead of `REDIS_URL`.
   */
  readonly redisClusterNodes: ReadonlyArray<{ readonly host: string; readonly port: number }> | undefined;
  readonly databaseUrl: string | undefined;
  readonly port: number;
  readonly host: string;
}

/** Overrides for {@link defaultConfig}: any field, and any gate setting on its own. */
export type AppConfigOverrides = Partial<Omit<AppConfig, "gate">> & {
  readonly gate?: Omit<GateConfigInput, "enabled" | "shadowMode">;
};

/**
 * Variables the app refuses, with what to set instead: the gate's kill switch
 * and shadow mode follow `MOLLIFIER_MODE`, and the app's former gate variables
 * were replaced by the gate's own, so an old setting fails loudly instead of
 * being ignored.
 */
const REFUSED_VARIABLES: Readonly<Record<string, string>> = {
  MOLLIFIER_ENABLED: "MOLLIFIER_MODE (off turns the gate off)",
  MOLLIFIER_SHADOW_MODE: "MOLLIFIER_MODE=shadow",
  MOLLIFIER_ENV_RATE: "MOLLIFIER_TRIP_THRESHOLD (triggers per MOLLIFIER_TRIP_WINDOW_MS)",
  MOLLIFIER_WINDOW_MS: "MOLLIFIER_TRIP_WINDOW_MS",
  MOLLIFIER_HOLD_MS: "MOLLIFIER_TRIP_HOLD_MS",
  MOLLIFIER_MOLLIFY_BATCHES: "MOLLIFIER_BATCH_SUPPORT",
};

const integer = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const environmentSchema = z.object({
  MOLLIFIER_MODE: z.enum(["off", "shadow", "dual-write", "mollify"]).default("mollify"),
  MOLLIFIER_ENROLLED_ORGS: z.string().default("*"),
  MOLLIFIER_DRAIN_RATE: integer(150),
  MOLLIFIER_DRAIN_CONCURRENCY: integer(4),
  MOLLIFIER_DB_MAX_WRITES: integer(4),
  MOLLIFIER_DB_WRITE_LATENCY_MS: integer(5),
  MOLLIFIER_MAX_PAYLOAD_BYTES: integer(512 * 1024),
  MOLLIFIER_MAX_ENV_DEPTH: z.coerce.number().int().positive().optional(),
  MOLLIFIER_MAX_ORG_DEPTH: z.coerce.number().int().positive().optional(),
  MOLLIFIER_DRAINER: z.enum(["in-process", "separate"]).default("in-process"),
  MOLLIFIER_IDEMPOTENCY_DURING_REDIS_OUTAGE: z.enum(["strict", "lenient"]).default("strict"),
  REDIS_URL: z.string().optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, "a comma-separated list of host:port")
    .optional(),
  DATABASE_URL: z.string().optional(),
  PORT: integer(3000),
  HOST: z.string().default("127.0.0.1"),
});

function gateSettingsFrom(environment: Readonly<Record<string, string | undefined>>): GateSettings {
  try {
    const { enabled: _enabled, shadowMode: _shadowMode, ...settings } = parseGateConfigFromEnv(environment);
    return settings;
  } catch (error) {
    throw new Error(`invalid configuration: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Parses the app's configuration: its own variables here, the gate's through
 * `parseGateConfigFromEnv`. Throws a message naming the variable on bad input.
 */
export function loadConfig(environment: Record<string, string | undefined> = process.env): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  for (const [variable, instead] of Object.entries(REFUSED_VARIABLES)) {
    if (cleaned[variable] !== undefined) {
      throw new Error(`invalid configuration: ${variable} is not read by the demo app; set ${instead}`);
    }
  }
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
    gate: gateSettingsFrom(cleaned),
    drainRatePerSecond: Math.max(1, values.MOLLIFIER_DRAIN_RATE),
    drainConcurrency: Math.max(1, values.MOLLIFIER_DRAIN_CONCURRENCY),
    maxConcurrentWrites: Math.max(1, values.MOLLIFIER_DB_MAX_WRITES),
    writeLatencyMs: values.MOLLIFIER_DB_WRITE_LATENCY_MS,
    maxPayloadBytes: values.MOLLIFIER_MAX_PAYLOAD_BYTES,
    maxEnvDepth: values.MOLLIFIER_MAX_ENV_DEPTH,
    maxOrgDepth: values.MOLLIFIER_MAX_ORG_DEPTH,
    drainerInProcess: values.MOLLIFIER_DRAINER === "in-process",
    idempotencyDuringRedisOutage: values.MOLLIFIER_IDEMPOTENCY_DURING_REDIS_OUTAGE,
    redisUrl: values.REDIS_URL,
    redisClusterNodes: values.REDIS_CLUSTER_NODES?.split(",").map((node) => {
      const [host = "", port = ""] = node.split(":");
      return { host, port: Number(port) };
    }),
    databaseUrl: values.DATABASE_URL,
    port: values.PORT,
    host: values.HOST,
  };
}

/** The defaults, with overrides (gate settings validated by the gate's parser): for tests and embedding. */
export function defaultConfig(overrides: AppConfigOverrides = {}): AppConfig {
  const defaults = loadConfig({});
  const { gate, ...rest } = overrides;
  const {
    enabled: _enabled,
    shadowMode: _shadowMode,
    ...settings
  } = parseGateConfig({
    ...defaults.gate,
    ...gate,
  });
  return { ...defaults, ...rest, gate: settings };
}

/** The per-env trip budget as a rate, triggers per second (for the dashboard and the start banner). */
export function tripRatePerSecond(gate: Pick<GateSettings, "tripThreshold" | "tripWindowMs">): number {
  return (gate.tripThreshold * 1_000) / gate.tripWindowMs;
}
