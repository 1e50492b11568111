import { randomBytes } from "node:crypto";
import type { RunView as FallbackRunView, ReadFallback } from "@mollifier/read-fallback";
import type { MollifierRecorder } from "@mollifier/telemetry";
import type { MollifierMode } from "../config.server";
import type { LiveStats } from "../dashboard/live-stats.server";
import type { RunEngine } from "../engine/run-engine.server";
import type { RunRecord } from "../engine/run-record";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AcceptInput, AppBuffer } from "../mollifier/buffer-port";
import type { AppGate, GateBypass } from "../mollifier/gate-port";
import { ApiError } from "./api-error";
import { durationMs, type TriggerBody } from "./trigger-schema";

/** A trigger about to be routed: a snapshot with its run id minted and its options resolved. */
type PendingRun = AcceptInput & { createdAt: number; options: NonNullable<AcceptInput["options"]> };

/** What a trigger answers. A mollified trigger adds `notice` and `queuePosition`. */
export interface TriggerResponse {
  readonly id: string;
  readonly taskId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly tags: readonly string[];
  readonly idempotencyKey: string | null;
  readonly isCached: boolean;
  readonly notice?: string;
  readonly queuePosition?: number;
}

export const MOLLIFIED_NOTICE =
  "Accepted into the burst buffer: the run is queued and will be written to the database shortly. " +
  "It can be read, cancelled and tagged meanwhile.";

/** Default lifetime of an idempotency key. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** Run ids are minted before the gate, so a buffered and a stored run share one id. */
export function mintRunId(): string {
  return `run_${randomBytes(12).toString("hex")}`;
}

export interface TriggerServiceDependencies {
  readonly mode: () => MollifierMode;
  readonly mollifyBatches: boolean;
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

function responseFromRecord(run: RunRecord, isCached: boolean): TriggerResponse {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    tags: run.tags,
    idempotencyKey: run.idempotencyKey ?? null,
    isCached,
  };
}

function responseFromView(run: FallbackRunView, isCached: boolean): TriggerResponse {
  return {
    id: run.id,
    taskId: run.taskId,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    tags: run.tags,
    idempotencyKey: run.idempotencyKey ?? null,
    isCached,
    ...(run.source === "buffer"
      ? {
          notice: MOLLIFIED_NOTICE,
          ...(run.queuePosition !== undefined ? { queuePosition: run.queuePosition } : {}),
        }
      : {}),
  };
}

/** The trigger hot path: idempotency claim → gate → buffer or database. */
export function createTriggerService(dependencies: TriggerServiceDependencies) {
  const { engine, buffer, gate, readFallback, stats, recorder } = dependencies;
  const clock = dependencies.clock ?? Date.now;
  const mint = dependencies.mintRunId ?? mintRunId;

  async function locate(env: SeededEnvironment, runId: string, isCached: boolean) {
    const found = await readFallback.findRun({ orgId: env.orgId, envId: env.envId, runId });
    if (found.outcome === "found") return responseFromView(found.run, isCached);
    const stored = await engine.findRun(env.envId, runId);
    return stored ? responseFromRecord(stored, isCached) : undefined;
  }

  async function cached(
    env: SeededEnvironment,
    taskId: string,
    key: string,
  ): Promise<TriggerResponse | undefined> {
    if (dependencies.mode() === "off") {
      const stored = await engine.findByIdempotencyKey(env.envId, taskId, key);
      return stored ? responseFromRecord(stored, true) : undefined;
    }
    const found = await readFallback.findIdempotentRun({
      orgId: env.orgId,
      envId: env.envId,
      taskId,
      idempotencyKey: key,
    });
    if (found.outcome === "found") return responseFromView(found.run, true);
    if (found.outcome === "degraded") {
      // Redis is down: the database still knows the keys of the runs it holds.
      const stored = await engine.findByIdempotencyKey(env.envId, taskId, key);
      return stored ? responseFromRecord(stored, true) : undefined;
    }
    return undefined;
  }

  async function writeDirect(snapshot: PendingRun, token: string | undefined) {
    const result = await engine.createRun({
      id: snapshot.runId,
      orgId: snapshot.orgId,
      envId: snapshot.envId,
      taskId: snapshot.taskId,
      status:
        snapshot.options.delayUntil !== undefined && snapshot.options.delayUntil > clock()
          ? "DELAYED"
          : "QUEUED",
      payload: snapshot.payload,
      idempotencyKey: snapshot.options.idempotencyKey,
      idempotencyKeyExpiresAt: snapshot.options.idempotencyKeyExpiresAt,
      tags: snapshot.options.tags ?? [],
      metadata: snapshot.options.metadata,
      delayUntil: snapshot.options.delayUntil,
      parentRunId: snapshot.options.parentRunId,
      oneTimeUseToken: token,
      error: undefined,
      source: "api",
      createdAt: snapshot.createdAt,
    });
    if (result.outcome === "one_time_token_used") {
      throw new ApiError(422, "oneTimeUseToken has already been used", "ONE_TIME_TOKEN_USED");
    }
    return responseFromRecord(result.run, result.outcome === "duplicate_idempotency");
  }

  async function route(
    env: SeededEnvironment,
    snapshot: PendingRun,
    bypass: GateBypass | undefined,
    token: string | undefined,
  ): Promise<TriggerResponse> {
    const mode = dependencies.mode();
    if (mode === "off") {
      // The gate is not consulted at all: zero Redis calls.
      stats.ungated();
      return writeDirect(snapshot, token);
    }
    const decision = await gate.decide({ ...snapshot, bypass });
    if (decision.action !== "mollify" || mode === "shadow") return writeDirect(snapshot, token);
    if (mode === "dual-write") {
      // Database first, then the buffer: the drainer then finds the row and only verifies it.
      const stored = await writeDirect(snapshot, token);
      if (stored.isCached) return stored;
      try {
        const accepted = await buffer.accept(snapshot);
        recorder.buffered({ ...snapshot, outcome: accepted.outcome });
      } catch (error) {
        recorder.degraded({ component: "gate", reason: "buffer_error", error, ...snapshot });
      }
      return stored;
    }
    let accepted: Awaited<ReturnType<AppBuffer["accept"]>>;
    try {
      accepted = await buffer.accept(snapshot);
    } catch (error) {
      // Fail open: the buffer being down must not fail the trigger.
      recorder.degraded({ component: "gate", reason: "buffer_error", error, ...snapshot });
      return writeDirect(snapshot, token);
    }
    recorder.buffered({ ...snapshot, outcome: accepted.outcome });
    if (accepted.outcome === "over_capacity") return writeDirect(snapshot, token);
    if (accepted.outcome === "duplicate_idempotency" || accepted.outcome === "duplicate_run") {
      // Nothing was buffered for this request: answer the run that holds the key (or id).
      const holder = await locate(env, accepted.runId, accepted.outcome === "duplicate_idempotency");
      // Gone meanwhile (its key reset): the database's unique key still keeps one run per key.
      return holder ?? writeDirect(snapshot, token);
    }
    // Answer as a stored run would, from what was accepted: no extra read on the hot path.
    return {
      id: snapshot.runId,
      taskId: snapshot.taskId,
      status:
        snapshot.options.delayUntil !== undefined && snapshot.options.delayUntil > clock()
          ? "DELAYED"
          : "QUEUED",
      createdAt: new Date(snapshot.createdAt).toISOString(),
      tags: snapshot.options.tags ?? [],
      idempotencyKey: snapshot.options.idempotencyKey ?? null,
      isCached: false,
      notice: MOLLIFIED_NOTICE,
      ...(accepted.outcome === "accepted" ? { queuePosition: accepted.position } : {}),
    };
  }

  /** Triggers one run for `env`. Throws {@link ApiError} for invalid combinations. */
  async function trigger(
    env: SeededEnvironment,
    taskId: string,
    body: TriggerBody,
    context: { batch?: boolean } = {},
  ): Promise<TriggerResponse> {
    const options = body.options ?? {};
    const now = clock();
    const delayUntil =
      options.delay !== undefined
        ? /^\d/.test(options.delay) && !options.delay.includes("-")
          ? now + durationMs(options.delay)
          : Date.parse(options.delay)
        : options.debounce !== undefined
          ? now + durationMs(options.debounce.delay)
          : undefined;
    const key = options.idempotencyKey;
    const ttlMs =
      options.idempotencyKeyTTL === undefined
        ? DEFAULT_IDEMPOTENCY_TTL_MS
        : typeof options.idempotencyKeyTTL === "number"
          ? options.idempotencyKeyTTL * 1_000
          : durationMs(options.idempotencyKeyTTL);
    const bypass: GateBypass | undefined = options.debounce
      ? "debounce"
      : options.oneTimeUseToken
        ? "one_time_use_token"
        : options.parentRunId && options.resumeParentOnCompletion
          ? "trigger_and_wait"
          : context.batch && !dependencies.mollifyBatches
            ? "batch"
            : undefined;
    const snapshot = {
      runId: mint(),
      orgId: env.orgId,
      envId: env.envId,
      taskId,
      payload: body.payload ?? null,
      createdAt: now,
      options: {
        ...(key !== undefined ? { idempotencyKey: key, idempotencyKeyExpiresAt: now + ttlMs } : {}),
        ...(options.tags ? { tags: [...new Set(options.tags)] } : {}),
        ...(delayUntil !== undefined ? { delayUntil } : {}),
        ...(options.parentRunId !== undefined ? { parentRunId: options.parentRunId } : {}),
        ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
      },
    };
    if (key === undefined) return route(env, snapshot, bypass, options.oneTimeUseToken);

    const hit = await cached(env, taskId, key);
    if (hit) return hit;
    if (dependencies.mode() === "off") return route(env, snapshot, bypass, options.oneTimeUseToken);
    const claimRequest = {
      orgId: env.orgId,
      envId: env.envId,
      taskId,
      idempotencyKey: key,
      idempotencyKeyExpiresAt: snapshot.options.idempotencyKeyExpiresAt,
    };
    const claim = await readFallback.claimOrAwait(claimRequest);
    if (claim.outcome === "resolved") {
      const winner = (await locate(env, claim.runId, true)) ?? (await cached(env, taskId, key));
      if (winner) return winner;
    }
    // Timed out or Redis down: go on without a claim; the buffer's index and the
    // database's unique key still keep one run per key.
    if (claim.outcome !== "claimed") return route(env, snapshot, bypass, options.oneTimeUseToken);
    try {
      // The previous owner may have finished between our lookup and our claim.
      const late = await cached(env, taskId, key);
      const response = late ?? (await route(env, snapshot, bypass, options.oneTimeUseToken));
      await readFallback.publish({ ...claimRequest, token: claim.token, runId: response.id });
      return response;
    } catch (error) {
      await readFallback.release({ ...claimRequest, token: claim.token });
      throw error;
    }
  }

  return { trigger };
}

export type TriggerService = ReturnType<typeof createTriggerService>;
