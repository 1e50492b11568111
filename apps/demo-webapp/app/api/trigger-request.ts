import type { GateInputs } from "@mollifier/gate";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AcceptInput } from "../mollifier/buffer-port";
import type { TriggerSpan } from "../observability/trigger-tracing";
import { durationMs, type TriggerBody, type TriggerOptions } from "./trigger-schema";

/** Default lifetime of an idempotency key. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** A run about to be routed: a snapshot with its run id minted and its options resolved. */
export type PendingRun = AcceptInput & {
  readonly createdAt: number;
  readonly options: NonNullable<AcceptInput["options"]>;
};

/** One trigger, resolved once: what to store, what the gate is told, and the token to consume. */
export interface TriggerRequest {
  readonly run: PendingRun;
  /** The trigger's facts for the gate; the gate alone decides whether they bypass it. */
  readonly gateInputs: GateInputs;
  /** Consumed by the database write; a trigger carrying one always bypasses the buffer. */
  readonly oneTimeUseToken: string | undefined;
  /** The request's span while tracing is on: a direct write is its child; the run carries its context. */
  readonly trace?: TriggerSpan | undefined;
}

/**
 * What the gate must know to apply its bypasses: a debounce, a one-time-use
 * token, a parent waiting on the result (trigger-and-wait) and a batch item
 * each need the run engine synchronously.
 */
export function bypassFacts(
  options: TriggerOptions,
  batch: boolean,
): Pick<GateInputs, "debounce" | "oneTimeUseToken" | "parentWaiting" | "isBatchItem"> {
  return {
    debounce: options.debounce !== undefined,
    oneTimeUseToken: options.oneTimeUseToken !== undefined,
    parentWaiting: options.parentRunId !== undefined && options.resumeParentOnCompletion === true,
    isBatchItem: batch,
  };
}

/** When a run may start: `delay` (a duration from now or an ISO date), else a debounce's delay. */
export function delayUntilOf(options: TriggerOptions, now: number): number | undefined {
  if (options.delay !== undefined) {
    const isDuration = /^\d/.test(options.delay) && !options.delay.includes("-");
    return isDuration ? now + durationMs(options.delay) : Date.parse(options.delay);
  }
  return options.debounce !== undefined ? now + durationMs(options.debounce.delay) : undefined;
}

/** An idempotency key's lifetime, ms: `idempotencyKeyTTL` in seconds or as a duration. */
export function idempotencyTtlMs(options: TriggerOptions): number {
  const ttl = options.idempotencyKeyTTL;
  if (ttl === undefined) return DEFAULT_IDEMPOTENCY_TTL_MS;
  return typeof ttl === "number" ? ttl * 1_000 : durationMs(ttl);
}

/** Resolves a validated trigger body into the run to store and the gate's inputs. */
export function triggerRequestOf(input: {
  readonly env: SeededEnvironment;
  readonly taskId: string;
  readonly body: TriggerBody;
  readonly batch: boolean;
  readonly runId: string;
  readonly now: number;
  readonly trace?: TriggerSpan | undefined;
}): TriggerRequest {
  const { env, taskId, runId, now } = input;
  const options = input.body.options ?? {};
  const key = options.idempotencyKey;
  const delayUntil = delayUntilOf(options, now);
  const run: PendingRun = {
    runId,
    orgId: env.orgId,
    envId: env.envId,
    taskId,
    payload: input.body.payload ?? null,
    createdAt: now,
    options: {
      ...(key !== undefined
        ? { idempotencyKey: key, idempotencyKeyExpiresAt: now + idempotencyTtlMs(options) }
        : {}),
      ...(options.tags ? { tags: [...new Set(options.tags)] } : {}),
      ...(delayUntil !== undefined ? { delayUntil } : {}),
      ...(options.parentRunId !== undefined ? { parentRunId: options.parentRunId } : {}),
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    },
  };
  const request: TriggerRequest = {
    run,
    gateInputs: { orgId: env.orgId, envId: env.envId, taskId, runId, ...bypassFacts(options, input.batch) },
    oneTimeUseToken: options.oneTimeUseToken,
  };
  if (input.trace === undefined) return request;
  // The request span's context travels with the buffered run, so its drain span can link to it.
  return { ...request, run: { ...run, traceContext: input.trace.traceContext }, trace: input.trace };
}
