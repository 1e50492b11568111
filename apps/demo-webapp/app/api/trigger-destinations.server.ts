import { isDependencyUnavailable } from "@mollifier/drainer";
import type { MollifierRecorder } from "@mollifier/telemetry";
import { initialRunStatus } from "../engine/initial-run-status";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AcceptResult, AppBuffer } from "../mollifier/buffer-port";
import { ApiError, bufferFull, unavailable } from "./api-error";
import type { RunLookup } from "./run-lookup.server";
import type { TriggerRequest } from "./trigger-request";
import { responseFromAccepted, responseFromRecord, type TriggerResponse } from "./trigger-response";
import type { TriggerDestination } from "./trigger-routing";

/** Writes a trigger's run to one {@link TriggerDestination} and answers it. */
export type TriggerDestinations = Record<
  TriggerDestination,
  (env: SeededEnvironment, trigger: TriggerRequest) => Promise<TriggerResponse>
>;

export function createTriggerDestinations(dependencies: {
  readonly engine: RunEngine;
  readonly buffer: AppBuffer;
  readonly lookup: RunLookup;
  /** Where buffered and degraded events go (the dashboard and OpenTelemetry). */
  readonly recorder: MollifierRecorder;
  readonly clock: () => number;
}): TriggerDestinations {
  const { engine, buffer, lookup, recorder, clock } = dependencies;

  async function database(_env: SeededEnvironment, { run, oneTimeUseToken, trace }: TriggerRequest) {
    const row = {
      id: run.runId,
      orgId: run.orgId,
      envId: run.envId,
      taskId: run.taskId,
      status: initialRunStatus(run.options.delayUntil, clock()),
      payload: run.payload,
      idempotencyKey: run.options.idempotencyKey,
      idempotencyKeyExpiresAt: run.options.idempotencyKeyExpiresAt,
      tags: run.options.tags ?? [],
      metadata: run.options.metadata,
      delayUntil: run.options.delayUntil,
      parentRunId: run.options.parentRunId,
      oneTimeUseToken,
      error: undefined,
      source: "api" as const,
      createdAt: run.createdAt,
    };
    const result = await (trace === undefined
      ? engine.createRun(row)
      : trace.childSpan("database write", () => engine.createRun(row)));
    if (result.outcome === "one_time_token_used") {
      throw new ApiError(422, "oneTimeUseToken has already been used", "ONE_TIME_TOKEN_USED");
    }
    return responseFromRecord(result.run, result.outcome === "duplicate_idempotency");
  }

  /** Accepts into the buffer; `undefined` when the buffer is down (already recorded as degraded). */
  async function accept({ run }: TriggerRequest): Promise<AcceptResult | undefined> {
    try {
      const accepted = await buffer.accept(run);
      recorder.buffered({ ...run, outcome: accepted.outcome });
      return accepted;
    } catch (error) {
      recorder.degraded({ component: "gate", reason: "buffer_error", error, ...run });
      return undefined;
    }
  }

  /**
   * The buffer's answer for a trigger it took (or found held); `undefined` when it could not take
   * it. Over its depth cap it refuses with 429: the env is over its budget, so the database is not
   * the place for the run either.
   */
  async function buffered(
    env: SeededEnvironment,
    trigger: TriggerRequest,
  ): Promise<TriggerResponse | undefined> {
    const accepted = await accept(trigger);
    if (accepted === undefined) return undefined;
    if (accepted.outcome === "over_capacity")
      throw bufferFull(accepted.scope, accepted.depth, accepted.limit);
    if (accepted.outcome === "accepted") return responseFromAccepted(trigger.run, accepted.position, clock());
    // Nothing was buffered for this request: answer the run that holds the key (or id).
    return lookup.byId(env, accepted.runId, accepted.outcome === "duplicate_idempotency");
  }

  /**
   * The database, failing over to the buffer when the database cannot be reached:
   * the run is buffered and answered as a mollified trigger, and the drainer writes
   * it once the database is back. With both down the answer is 503 and nothing is written.
   */
  async function databaseOrBuffer(env: SeededEnvironment, trigger: TriggerRequest): Promise<TriggerResponse> {
    try {
      return await database(env, trigger);
    } catch (error) {
      if (!isDependencyUnavailable(error)) throw error;
      recorder.degraded({ component: "gate", reason: "database_unavailable", error, ...trigger.run });
      const response = await buffered(env, trigger);
      if (response === undefined)
        throw unavailable(
          "the database and the buffer are both unavailable; nothing was written, retry later",
        );
      return response;
    }
  }

  return {
    database: databaseOrBuffer,
    async buffer(env, trigger) {
      // Fail open: a buffer that is down must not fail the trigger (a full one refuses, above). Gone meanwhile
      // (a key reset): the database's unique key still keeps one run per key.
      return (await buffered(env, trigger)) ?? database(env, trigger);
    },
    async database_then_buffer(env, trigger) {
      // Database first: the drainer then finds the row and only verifies it. With the
      // database down the buffer alone takes the run, and the drainer writes it later.
      const stored = await databaseOrBuffer(env, trigger);
      if (!stored.isCached && stored.notice === undefined) await accept(trigger);
      return stored;
    },
  };
}
