import { BufferKeys } from "@mollifier/buffer";
import { type RedisClient, runLuaScript } from "@mollifier/core";
import {
  DEFAULT_GLOBAL_PARTS,
  DEFAULT_TRIP_BUCKETS,
  DEFAULT_TRIP_HOLD_MS,
  DEFAULT_TRIP_THRESHOLD,
  DEFAULT_TRIP_WINDOW_MS,
  MAX_GLOBAL_PARTS,
  MAX_TRIP_BUCKETS,
} from "./gate-config.js";
import { GateError, gateOptionChecks } from "./gate-error.js";
import { envTripScript, globalTripScript } from "./generated/lua-scripts.js";
import { GlobalBudgetParts } from "./global-budget-parts.js";
import type { TripEvaluation, TripEvaluator, TripRequest } from "./trip-evaluation.js";

/** Options of {@link RedisTripEvaluator}; field names match {@link GateConfig}, so a config can be spread in. */
export interface RedisTripEvaluatorOptions {
  /**
   * The Redis (or Cluster) holding the buffer. Create it with
   * `enableOfflineQueue: false` so that no command waits for a reconnect; the
   * evaluator also refuses to send while the client is not connected.
   */
  redis: RedisClient;
  /**
   * The buffer's key builder (same prefix and shard count as the buffer), so
   * the env's window lives in the slot of its depth counter.
   * @default new BufferKeys()
   */
  keys?: BufferKeys;
  /**
   * Most triggers an env passes through in any window of `tripWindowMs`.
   * @default 100
   */
  tripThreshold?: number;
  /**
   * Length of the sliding window, ms.
   * @default 1000
   */
  tripWindowMs?: number;
  /**
   * How long an env stays tripped after its last over-threshold trigger, ms.
   * @default 5000
   */
  tripHoldMs?: number;
  /**
   * Sub-buckets per window; a window is over-counted by at most one sub-bucket,
   * so a steady rate trips at `threshold * buckets / (buckets + 1)` at the lowest.
   * @default 20
   */
  tripBuckets?: number;
  /**
   * Fleet-wide budget per `tripWindowMs` (same window and hold). Consulted
   * only for triggers the env's own budget admits, with a second script call.
   * @default undefined (no global budget)
   */
  globalThreshold?: number | undefined;
  /**
   * Most parts the global budget is spread over, each a window on its own
   * cluster slot with its share of `globalThreshold`, placed so that every
   * master of an evenly split cluster holds its share. The budget uses
   * `min(globalParts, max(1, floor(globalThreshold / 250)))` parts, so a small
   * budget stays in one window. Every gate process must pass the same
   * `globalThreshold` and `globalParts`.
   * @default 16
   */
  globalParts?: number | undefined;
  /**
   * Source of randomness in [0, 1): picks the global part this process starts
   * its rotation at, so processes started together do not walk the parts in step.
   * @default Math.random
   */
  random?: () => number;
}

// Client states in which ioredis would queue a command until it reconnects.
const NOT_CONNECTED: ReadonlySet<string> = new Set([
  "connecting",
  "reconnecting",
  "disconnecting",
  "close",
  "end",
]);
const ENV_OUTCOMES = ["under_budget", "per_env_rate", "per_env_rate", "backlogged"] as const;

interface EnvScriptKeys {
  readonly keys: readonly [string, string];
  readonly depthField: string;
}

const check = gateOptionChecks("RedisTripEvaluatorOptions");

function requireInteger(path: string, value: number, min: number, max?: number): number {
  return check.integer(path, value, min, max);
}

function integers(reply: unknown, length: number, script: string): number[] {
  if (Array.isArray(reply) && reply.length === length) {
    const values: number[] = [];
    for (const value of reply) {
      if (typeof value !== "number") break;
      values.push(value);
    }
    if (values.length === length) return values;
  }
  throw new GateError("UNEXPECTED_REPLY", `${script} answered ${JSON.stringify(reply)}`);
}

/**
 * The per-env trip evaluator (with an optional fleet-wide budget) on Redis:
 * one `EVALSHA` per evaluation, in the env's shard slot, which counts the
 * trigger in a sliding window, applies the hold and reads the env's backlog
 * atomically. Time comes from the caller (`now`), not Redis `TIME`.
 *
 * With a global budget, a trigger the env admits is counted by a second
 * `EVALSHA` in one part of the budget: the budget of `G` per window is spread
 * over `n` windows on their own slots (see
 * {@link RedisTripEvaluatorOptions.globalParts}), with thresholds adding up to
 * `G`, and each process sends its triggers to the parts in turn. No part admits
 * more than its share in any window, so the fleet never passes more than `G`;
 * a part's count differs from `1/n` of the fleet's by less than the number of
 * gate processes, so the budget trips at most `n × processes` triggers early
 * (besides the window's own over-count of one sub-bucket).
 *
 * @example
 * const evaluator = new RedisTripEvaluator({ redis, keys: buffer.keys, ...config });
 * const evaluation = await evaluator.evaluate({ orgId, envId, now: Date.now() });
 */
export class RedisTripEvaluator implements TripEvaluator {
  readonly #redis: RedisClient;
  readonly #keys: BufferKeys;
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #holdMs: number;
  readonly #buckets: number;
  readonly #globalThreshold: number | undefined;
  readonly #globalParts: GlobalBudgetParts | undefined;
  // Keyed by the buffer's own (memoised) env keys: when the buffer follows a reshard, its key
  // builder answers new env keys, so this cache cannot keep an env on the shard it left.
  readonly #envKeys = new WeakMap<ReturnType<BufferKeys["env"]>, EnvScriptKeys>();

  constructor(options: RedisTripEvaluatorOptions) {
    check.object("redis", options.redis);
    this.#redis = options.redis;
    this.#keys = options.keys ?? new BufferKeys();
    this.#threshold = requireInteger("tripThreshold", options.tripThreshold ?? DEFAULT_TRIP_THRESHOLD, 1);
    this.#windowMs = requireInteger("tripWindowMs", options.tripWindowMs ?? DEFAULT_TRIP_WINDOW_MS, 1);
    this.#holdMs = requireInteger("tripHoldMs", options.tripHoldMs ?? DEFAULT_TRIP_HOLD_MS, 0);
    this.#buckets = requireInteger(
      "tripBuckets",
      options.tripBuckets ?? DEFAULT_TRIP_BUCKETS,
      1,
      MAX_TRIP_BUCKETS,
    );
    this.#globalThreshold =
      options.globalThreshold === undefined
        ? undefined
        : requireInteger("globalThreshold", options.globalThreshold, 1);
    const mostParts = requireInteger(
      "globalParts",
      options.globalParts ?? DEFAULT_GLOBAL_PARTS,
      1,
      MAX_GLOBAL_PARTS,
    );
    this.#globalParts =
      this.#globalThreshold === undefined
        ? undefined
        : new GlobalBudgetParts({
            keys: this.#keys,
            threshold: this.#globalThreshold,
            mostParts,
            random: options.random ?? Math.random,
          });
  }

  /** The global budget's window keys, one per part (empty without a global budget). */
  get globalKeys(): readonly string[] {
    return this.#globalParts?.parts.map((part) => part.keys[0]) ?? [];
  }

  async evaluate(request: TripRequest): Promise<TripEvaluation> {
    const { orgId, envId, now } = request;
    if (NOT_CONNECTED.has(this.#redis.status)) {
      // Fail fast instead of queueing behind a reconnect; the gate fails open. The message says what
      // to do, since a client created just before the first trigger is still connecting.
      throw new GateError(
        "REDIS_NOT_READY",
        `the Redis client is ${this.#redis.status}, not ready: the gate answers pass_through/degraded until it is (await redis.connect() or its "ready" event before the first trigger)`,
      );
    }
    const env = this.#envScriptKeys(orgId, envId);
    const reply = await runLuaScript(this.#redis, envTripScript, env.keys, [
      now,
      this.#windowMs,
      this.#buckets,
      this.#threshold,
      this.#holdMs,
      env.depthField,
    ]);
    const [code = -1, count = 0, backlog = 0, holdRemainingMs = 0] = integers(reply, 4, "env-trip");
    const outcome = ENV_OUTCOMES[code];
    if (outcome === undefined) throw new GateError("UNEXPECTED_REPLY", `env-trip answered code ${code}`);
    // Built field by field, not spread: this is the gate's hot path.
    const evaluation: TripEvaluation = {
      outcome,
      tripped: outcome !== "under_budget",
      count,
      threshold: this.#threshold,
      windowMs: this.#windowMs,
      holdRemainingMs,
      backlog,
    };
    const globalParts = this.#globalParts;
    if (outcome !== "under_budget" || globalParts === undefined) return evaluation;
    const part = globalParts.next();
    const globalReply = await runLuaScript(this.#redis, globalTripScript, part.keys, [
      now,
      this.#windowMs,
      this.#buckets,
      part.threshold,
      this.#holdMs,
    ]);
    const [globalCode = -1, globalCount = 0, globalHold = 0] = integers(globalReply, 3, "global-trip");
    if (globalCode < 0 || globalCode > 2) {
      throw new GateError("UNEXPECTED_REPLY", `global-trip answered code ${globalCode}`);
    }
    const global = {
      count: globalParts.fleetCount(part, globalCount),
      threshold: globalParts.threshold,
      holdRemainingMs: globalHold,
    };
    return globalCode === 0
      ? { ...evaluation, global }
      : { ...evaluation, outcome: "global_rate", tripped: true, global };
  }

  #envScriptKeys(orgId: string, envId: string): EnvScriptKeys {
    const env = this.#keys.env(orgId, envId);
    const cached = this.#envKeys.get(env);
    if (cached !== undefined) return cached;
    const built: EnvScriptKeys = {
      keys: [`${env.gatePrefix}:window`, env.depth],
      depthField: env.envDepthField,
    };
    this.#envKeys.set(env, built);
    return built;
  }
}
