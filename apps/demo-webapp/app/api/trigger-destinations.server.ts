import type { MollifierRecorder } from "@mollifier/telemetry";
import { initialRunStatus } from "../engine/initial-run-status";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AcceptResult, AppBuffer } from "../mollifier/buffer-port";
import { ApiError } from "./api-error";
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

  async function database(_env: SeededEnvironment, { run, oneTimeUseToken }: TriggerRequest) {
    const result = await engine.createRun({
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
      source: "api",
      createdAt: run.createdAt,
    });
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

  return {
    database,
    async buffer(env, trigger) {
      const accepted = await accept(trigger);
      // Fail open: a buffer that is down or full must not fail the trigger.
      if (accepted === undefined || accepted.outcome === "over_capacity") return database(env, trigger);
      if (accepted.outcome === "accepted")
        return responseFromAccepted(trigger.run, accepted.position, clock());
      // Nothing was buffered for this request: answer the run that holds the key (or id).
      const holder = await lookup.byId(env, accepted.runId, accepted.outcome === "duplicate_idempotency");
      // Gone meanwhile (its key reset): the database's unique key still keeps one run per key.
      return holder ?? database(env, trigger);
    },
    async database_then_buffer(env, trigger) {
      // Database first: the drainer then finds the row and only verifies it.
      const stored = await database(env, trigger);
      if (!stored.isCached) await accept(trigger);
      return stored;
    },
  };
}
