import type { ReadFallback } from "@mollifier/read-fallback";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
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
}): RunLookup {
  const { engine, readFallback, usesRedis } = dependencies;

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
      const found = await readFallback.findIdempotentRun(ref);
      if (found.outcome === "found") return responseFromView(found.run, true);
      // Redis is down: the database still knows the keys of the runs it holds.
      if (found.outcome === "degraded") return fromDatabase(env, taskId, key);
      return undefined;
    },
  };
}
