import { isDependencyUnavailable } from "@mollifier/drainer";
import type { ReadFallback } from "@mollifier/read-fallback";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import { unavailable } from "./api-error";
import { responseFromRecord, responseFromView, type TriggerResponse } from "./trigger-response";

/** Finds the run a trigger answers with instead of creating one: by id, or by idempotency key. */
export interface RunLookup {
  /** The run `runId`, from the buffer or the database. */
  byId(env: SeededEnvironment, runId: string, isCached: boolean): Promise<TriggerResponse | undefined>;
  /** The run holding an idempotency key, answered as cached. */
  byIdempotencyKey(env: SeededEnvironment, taskId: string, key: string): Promise<TriggerResponse | undefined>;
}

export function createRunLookup(dependencies: {
  readonly engine: RunEngine;
  readonly readFallback: ReadFallback;
  /** `false` in mode `off`: only the database is asked. */
  readonly usesRedis: boolean;
  /** See `AppConfig.idempotencyDuringRedisOutage`. @default "strict" */
  readonly idempotencyDuringRedisOutage?: "strict" | "lenient";
}): RunLookup {
  const { engine, readFallback, usesRedis } = dependencies;
  const strict = dependencies.idempotencyDuringRedisOutage !== "lenient";

  async function fromDatabase(env: SeededEnvironment, taskId: string, key: string) {
    const stored = await engine.findByIdempotencyKey(env.envId, taskId, key);
    return stored ? responseFromRecord(stored, true) : undefined;
  }

  return {
    async byId(env, runId, isCached) {
      const found = await readFallback.findRun({ orgId: env.orgId, envId: env.envId, runId });
      if (found.outcome === "found") return responseFromView(found.run, isCached);
      const stored = await engine.findRun(env.envId, runId);
      return stored ? responseFromRecord(stored, isCached) : undefined;
    },
    async byIdempotencyKey(env, taskId, key) {
      if (!usesRedis) return fromDatabase(env, taskId, key);
      const ref = { orgId: env.orgId, envId: env.envId, taskId, idempotencyKey: key };
      let found: Awaited<ReturnType<ReadFallback["findIdempotentRun"]>>;
      try {
        found = await readFallback.findIdempotentRun(ref);
      } catch (error) {
        // The database cannot be read, but the buffer's index was, and no buffered run holds the
        // key: go on. The trigger is buffered (the database is down); should the database hold the
        // key already, the buffered run resolves to that run when it drains (docs/adr/0008).
        if (isDependencyUnavailable(error)) return undefined;
        throw error;
      }
      if (found.outcome === "found") return responseFromView(found.run, true);
      if (found.outcome === "degraded" && strict) {
        // Redis is down and the database does not hold the key: a run buffered under it would be
        // invisible, so a new run could duplicate it. Refuse rather than guess.
        throw unavailable("idempotency keys cannot be checked while Redis is unavailable; retry later");
      }
      return undefined;
    },
  };
}
