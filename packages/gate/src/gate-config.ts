import { z } from "zod/v3";
import { GateError } from "./gate-error.js";

/** Default of {@link GateConfig.enabled}: the gate is off until switched on. */
export const DEFAULT_ENABLED = false;
/** Default of {@link GateConfig.shadowMode}. */
export const DEFAULT_SHADOW_MODE = false;
/** Default of {@link GateConfig.batchSupport}. */
export const DEFAULT_BATCH_SUPPORT = false;
/**
 * Default of {@link GateConfig.timeBudgetMs}. A healthy Redis answers an
 * `EVALSHA` in well under a millisecond, but the gate runs inside a busy
 * process during the very bursts it exists for, where GC and event-loop pauses
 * of 10 ms and more are common; a budget of 1–5 ms would then fail open
 * exactly when protection matters. 25 ms bounds what a Redis brown-out can add
 * to a trigger (whose own database write costs tens of ms) while leaving
 * headroom for those pauses. Outages themselves cost nothing: the evaluator
 * refuses to queue on a disconnected client.
 */
export const DEFAULT_TIME_BUDGET_MS = 25;
/** Default of {@link GateConfig.tripThreshold}: triggers per env per window. */
export const DEFAULT_TRIP_THRESHOLD = 100;
/** Default of {@link GateConfig.tripWindowMs}. */
export const DEFAULT_TRIP_WINDOW_MS = 1_000;
/** Default of {@link GateConfig.tripHoldMs}. */
export const DEFAULT_TRIP_HOLD_MS = 5_000;
/** Default of {@link GateConfig.tripBuckets}: the window over-counts by at most 1/20 (5%). */
export const DEFAULT_TRIP_BUCKETS = 20;
/** Most sub-buckets a window may have (each costs a hash field). */
export const MAX_TRIP_BUCKETS = 1_000;
/** Default of {@link GateConfig.globalParts}: most windows the global budget is spread over. */
export const DEFAULT_GLOBAL_PARTS = 16;
/** Most parts the global budget may be spread over. */
export const MAX_GLOBAL_PARTS = 1_024;
/**
 * Smallest share of the global threshold a part gets: a part's count strays
 * from its share of the fleet's by up to one trigger per gate process, so a
 * share of 250 keeps 5 processes within 2 % of the budget.
 */
export const MIN_GLOBAL_PART_THRESHOLD = 250;

const POSITIVE_INTEGER = "must be a positive integer";
const BOOLEAN = "must be a boolean (true/false, 1/0, yes/no, on/off)";

const positiveInteger = z
  .number({ invalid_type_error: POSITIVE_INTEGER, required_error: POSITIVE_INTEGER })
  .int(POSITIVE_INTEGER)
  .positive(POSITIVE_INTEGER)
  .max(Number.MAX_SAFE_INTEGER, POSITIVE_INTEGER);
const flag = z.boolean({ invalid_type_error: BOOLEAN });

/** The gate's configuration; {@link parseGateConfig} fills in the defaults. */
export const gateConfigSchema = z
  .object({
    /** The kill switch: `false` answers `pass_through` / `kill_switch` with no other work. */
    enabled: flag.default(DEFAULT_ENABLED),
    /** Evaluate non-enrolled orgs too and answer `shadow_log` where they would be mollified. */
    shadowMode: flag.default(DEFAULT_SHADOW_MODE),
    /** Let batch items through the gate; when `false` they bypass it (`bypass_batch`). */
    batchSupport: flag.default(DEFAULT_BATCH_SUPPORT),
    /** Longest the gate waits for enrollment and evaluation together before failing open. */
    timeBudgetMs: positiveInteger.default(DEFAULT_TIME_BUDGET_MS),
    /** Most triggers an env passes through in any window of `tripWindowMs`. */
    tripThreshold: positiveInteger.default(DEFAULT_TRIP_THRESHOLD),
    /** Length of the sliding window, ms. */
    tripWindowMs: positiveInteger.default(DEFAULT_TRIP_WINDOW_MS),
    /** How long an env stays tripped after its last over-threshold trigger, ms. */
    tripHoldMs: z
      .number({ invalid_type_error: "must be a non-negative integer" })
      .int("must be a non-negative integer")
      .nonnegative("must be a non-negative integer")
      .default(DEFAULT_TRIP_HOLD_MS),
    /** Sub-buckets of the window; the count over-estimates a window by at most `1/tripBuckets`. */
    tripBuckets: positiveInteger
      .max(MAX_TRIP_BUCKETS, `must be a positive integer up to ${MAX_TRIP_BUCKETS}`)
      .default(DEFAULT_TRIP_BUCKETS),
    /** Fleet-wide budget per `tripWindowMs`; unset means no global budget. */
    globalThreshold: positiveInteger.optional(),
    /**
     * Most windows (cluster slots) the global budget is spread over; it uses
     * `min(globalParts, max(1, floor(globalThreshold / 250)))`. Unset means 16.
     */
    globalParts: positiveInteger
      .max(MAX_GLOBAL_PARTS, `must be a positive integer up to ${MAX_GLOBAL_PARTS}`)
      .optional(),
  })
  .strict();

/** The gate's configuration with every default applied. */
export type GateConfig = z.output<typeof gateConfigSchema>;
/** What {@link parseGateConfig} accepts: every field optional. */
export type GateConfigInput = z.input<typeof gateConfigSchema>;

/** The environment variable of each {@link GateConfig} field. */
export const GATE_CONFIG_ENV_VARIABLES = {
  enabled: "MOLLIFIER_ENABLED",
  shadowMode: "MOLLIFIER_SHADOW_MODE",
  batchSupport: "MOLLIFIER_BATCH_SUPPORT",
  timeBudgetMs: "MOLLIFIER_GATE_TIME_BUDGET_MS",
  tripThreshold: "MOLLIFIER_TRIP_THRESHOLD",
  tripWindowMs: "MOLLIFIER_TRIP_WINDOW_MS",
  tripHoldMs: "MOLLIFIER_TRIP_HOLD_MS",
  tripBuckets: "MOLLIFIER_TRIP_BUCKETS",
  globalThreshold: "MOLLIFIER_GLOBAL_THRESHOLD",
  globalParts: "MOLLIFIER_GLOBAL_PARTS",
} as const satisfies Record<keyof GateConfig, string>;

type FieldName = keyof typeof GATE_CONFIG_ENV_VARIABLES;
const BOOLEAN_FIELDS: ReadonlySet<FieldName> = new Set(["enabled", "shadowMode", "batchSupport"]);
const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

function parseWith(
  input: Readonly<Record<string, unknown>>,
  nameOf: (field: string) => string,
  shown: (field: string) => unknown,
): GateConfig {
  const result = gateConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `unknown option(s) ${issue.keys.join(", ")}`;
    const field = String(issue.path[0] ?? "config");
    return `${nameOf(field)} ${issue.message}, got ${JSON.stringify(shown(field))}`;
  });
  throw new GateError("INVALID_OPTIONS", problems.join("; "));
}

/**
 * Validates a configuration object and applies the defaults. Throws
 * {@link GateError} (`INVALID_OPTIONS`) naming every invalid option, e.g.
 * `GateConfig.tripThreshold must be a positive integer, got 0`.
 *
 * @example
 * const config = parseGateConfig({ enabled: true, tripThreshold: 500 });
 */
export function parseGateConfig(input: GateConfigInput = {}): GateConfig {
  return parseWith(
    input,
    (field) => `GateConfig.${field}`,
    (field) => (input as Record<string, unknown>)[field],
  );
}

function fromText(field: FieldName, text: string): unknown {
  const trimmed = text.trim();
  if (BOOLEAN_FIELDS.has(field)) {
    const word = trimmed.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return text;
  }
  return /^[0-9]+$/.test(trimmed) ? Number(trimmed) : text;
}

/**
 * Reads the gate's configuration from environment variables (the app passes
 * them in; the package never reads the process environment itself). Unset or empty variables
 * take their default. Throws {@link GateError} (`INVALID_OPTIONS`) whose message
 * names each invalid variable, e.g. `MOLLIFIER_TRIP_THRESHOLD must be a
 * positive integer`.
 *
 * | variable | field | default |
 * |---|---|---|
 * | `MOLLIFIER_ENABLED` | `enabled` | `false` |
 * | `MOLLIFIER_SHADOW_MODE` | `shadowMode` | `false` |
 * | `MOLLIFIER_BATCH_SUPPORT` | `batchSupport` | `false` |
 * | `MOLLIFIER_GATE_TIME_BUDGET_MS` | `timeBudgetMs` | `25` |
 * | `MOLLIFIER_TRIP_THRESHOLD` | `tripThreshold` | `100` |
 * | `MOLLIFIER_TRIP_WINDOW_MS` | `tripWindowMs` | `1000` |
 * | `MOLLIFIER_TRIP_HOLD_MS` | `tripHoldMs` | `5000` |
 * | `MOLLIFIER_TRIP_BUCKETS` | `tripBuckets` | `20` |
 * | `MOLLIFIER_GLOBAL_THRESHOLD` | `globalThreshold` | unset (no global budget) |
 * | `MOLLIFIER_GLOBAL_PARTS` | `globalParts` | unset (16) |
 *
 * @example
 * // In the app, which owns the environment:
 * const config = parseGateConfigFromEnv(appEnvironment);
 */
export function parseGateConfigFromEnv(env: Readonly<Record<string, string | undefined>>): GateConfig {
  const input: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  for (const [field, variable] of Object.entries(GATE_CONFIG_ENV_VARIABLES) as [FieldName, string][]) {
    const text = env[variable];
    if (text === undefined || text.trim() === "") continue;
    input[field] = fromText(field, text);
    texts[field] = text;
  }
  return parseWith(
    input,
    (field) => (field in GATE_CONFIG_ENV_VARIABLES ? GATE_CONFIG_ENV_VARIABLES[field as FieldName] : field),
    (field) => texts[field],
  );
}
