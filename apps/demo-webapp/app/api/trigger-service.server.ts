import { randomBytes } from "node:crypto";
import type { GateDecision } from "@mollifier/gate";
import type { ReadFallback } from "@mollifier/read-fallback";
import type { MollifierRecorder } from "@mollifier/telemetry";
import type { MollifierMode } from "../config.server";
import type { LiveStats } from "../dashboard/live-stats.server";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AppBuffer } from "../mollifier/buffer-port";
import type { AppGate } from "../mollifier/gate-port";
import type { TriggerSpan } from "../observability/trigger-tracing";
import { type ClaimStep, createIdempotencyClaims } from "./idempotency-claim.server";
import { createRunLookup } from "./run-lookup.server";
import { createTriggerDestinations } from "./trigger-destinations.server";
import { type TriggerRequest, triggerRequestOf } from "./trigger-request";
import type { TriggerResponse } from "./trigger-response";
import { destinationFor, modeUsesRedis, type TriggerDestination } from "./trigger-routing";
import type { TriggerBody } from "./trigger-schema";

const RUN_ID_BYTES = 12;
/** Random bytes drawn at once: one `randomBytes` call per 512 run ids instead of one per trigger. */
const POOL_BYTES = RUN_ID_BYTES * 512;
let pool: Buffer = Buffer.alloc(0);
let poolOffset = 0;

/** Run ids are minted before the gate, so a buffered and a stored run share one id. */
export function mintRunId(): string {
  if (poolOffset + RUN_ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const id = pool.toString("hex", poolOffset, poolOffset + RUN_ID_BYTES);
  poolOffset += RUN_ID_BYTES;
  return `run_${id}`;
}

/** What one trigger came to: the API's answer and how it was decided. */
export interface TriggerResult {
  /** What the API answers. */
  readonly response: TriggerResponse;
  /**
   * The gate's whole decision (reason, trip evaluation, degraded cause);
   * `undefined` when the gate was not asked: mode `off`, or an idempotency key
   * answered by the run already holding it.
   */
  readonly decision: GateDecision | undefined;
  /** Where the run was sent; `undefined` when an existing run answered. */
  readonly destination: TriggerDestination | undefined;
}

export interface TriggerServiceDependencies {
  /** The app's mode, fixed for the life of the service. */
  readonly mode: MollifierMode;
  /** See `AppConfig.idempotencyDuringRedisOutage`. @default "strict" */
  readonly idempotencyDuringRedisOutage?: "strict" | "lenient";
  readonly engine: RunEngine;
  readonly buffer: AppBuffer;
  readonly gate: AppGate;
  readonly readFallback: ReadFallback;
  readonly stats: LiveStats;
  /** Where buffered and degraded events go (the dashboard and OpenTelemetry). */
  readonly recorder: MollifierRecorder;
  readonly clock?: () => number;
  readonly mintRunId?: () => string;
}

const answered = (response: TriggerResponse): TriggerResult => ({
  response,
  decision: undefined,
  destination: undefined,
});

/**
 * The trigger hot path, one named step each:
 * resolve the request → look up its idempotency key → claim the key →
 * route (gate decision → destination) → publish the run id (or release the claim).
 */
export function createTriggerService(dependencies: TriggerServiceDependencies) {
  const { mode, gate, stats } = dependencies;
  const clock = dependencies.clock ?? Date.now;
  const mint = dependencies.mintRunId ?? mintRunId;
  const usesRedis = modeUsesRedis(mode);
  const lookup = createRunLookup({ ...dependencies, usesRedis });
  const claims = createIdempotencyClaims({ readFallback: dependencies.readFallback, lookup, usesRedis });
  const destinations = createTriggerDestinations({ ...dependencies, lookup, clock });

  /** Step: ask the gate (never in mode `off`), then write the run where mode and decision send it. */
  async function route(env: SeededEnvironment, trigger: TriggerRequest): Promise<TriggerResult> {
    let decision: GateDecision | undefined;
    if (usesRedis) decision = await gate.decide(trigger.gateInputs);
    else stats.ungated();
    const destination = destinationFor(mode, decision);
    return { response: await destinations[destination](env, trigger), decision, destination };
  }

  /** Steps for a claimed key: look again, route, publish; the claim is released if any of it fails. */
  async function routeClaimed(
    env: SeededEnvironment,
    trigger: TriggerRequest,
    key: string,
    claim: Extract<ClaimStep, { outcome: "claimed" }>,
  ): Promise<TriggerResult> {
    try {
      // The previous owner may have finished between our lookup and our claim.
      const late = await lookup.byIdempotencyKey(env, trigger.run.taskId, key);
      const result = late ? answered(late) : await route(env, trigger);
      await claims.publish(claim, result.response.id);
      return result;
    } catch (error) {
      await claims.release(claim);
      throw error;
    }
  }

  /** Triggers one run for `env`. Throws `ApiError` for invalid combinations (a one-time token already used). */
  async function trigger(
    env: SeededEnvironment,
    taskId: string,
    body: TriggerBody,
    context: { batch?: boolean; trace?: TriggerSpan } = {},
  ): Promise<TriggerResult> {
    const request = triggerRequestOf({
      env,
      taskId,
      body,
      batch: context.batch === true,
      runId: mint(),
      now: clock(),
      trace: context.trace,
    });
    const key = request.run.options.idempotencyKey;
    if (key === undefined) return route(env, request);

    const existing = await lookup.byIdempotencyKey(env, taskId, key);
    if (existing) return answered(existing);
    const claim = await claims.claim(env, request, key);
    if (claim.outcome === "answered") return answered(claim.response);
    if (claim.outcome === "unclaimed") return route(env, request);
    return routeClaimed(env, request, key, claim);
  }

  return { trigger };
}

export type TriggerService = ReturnType<typeof createTriggerService>;
