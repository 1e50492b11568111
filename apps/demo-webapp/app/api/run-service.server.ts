import type { ReadFallback } from "@mollifier/read-fallback";
import type { RunEngine } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AppBuffer } from "../mollifier/buffer-port";
import { ApiError, notFound } from "./api-error";
import { type RunView, toRunView } from "./run-view";

export interface RunServiceDependencies {
  readonly engine: RunEngine;
  readonly buffer: AppBuffer;
  readonly readFallback: ReadFallback;
}

const busy = () => new ApiError(409, "the run is being written to the database; retry shortly", "BUSY");
const unavailable = () => new ApiError(503, "the buffer is unavailable; retry shortly", "BUFFER_UNAVAILABLE");

/**
 * Reads and mutations that see a run wherever it is, through
 * `@mollifier/read-fallback`: the database first, then the buffer; a run being
 * written is waited for (polling Redis) and then mutated in the database.
 */
export function createRunService(dependencies: RunServiceDependencies) {
  const { engine, buffer, readFallback } = dependencies;
  const ref = (env: SeededEnvironment, runId: string) => ({ orgId: env.orgId, envId: env.envId, runId });

  /** Failure or outage outcomes shared by every read-fallback call, as API errors. */
  function settle(result: { outcome: string }): void {
    if (result.outcome === "not_found") throw notFound();
    if (result.outcome === "timed_out") throw busy();
    if (result.outcome === "degraded") throw unavailable();
  }

  async function find(env: SeededEnvironment, runId: string): Promise<RunView | undefined> {
    const result = await readFallback.findRun(ref(env, runId));
    if (result.outcome === "not_found") {
      // A run that drained into a key another run held answers as that run.
      const target = await engine.findRedirect(env.envId, runId);
      const resolved = target === undefined ? undefined : await find(env, target);
      return resolved && { ...resolved, resolvedFromRunId: runId };
    }
    if (result.outcome === "degraded") {
      // Redis is down: the database still answers for the runs it holds.
      const stored = await engine.findRun(env.envId, runId);
      if (!stored) throw unavailable();
      const again = await readFallback.findRun(ref(env, runId));
      if (again.outcome === "found") return toRunView(again.run, stored.error);
      throw unavailable();
    }
    const stored = result.run.source === "database" ? await engine.findRun(env.envId, runId) : undefined;
    return toRunView(result.run, stored?.error);
  }

  async function current(env: SeededEnvironment, runId: string): Promise<RunView> {
    const view = await find(env, runId);
    if (!view) throw notFound();
    return view;
  }

  return {
    find,

    async cancel(env: SeededEnvironment, runId: string, reason: string): Promise<RunView> {
      const result = await readFallback.cancelRun({ ...ref(env, runId), reason });
      settle(result);
      return current(env, runId);
    },

    async addTags(env: SeededEnvironment, runId: string, tags: string[]): Promise<RunView> {
      const result = await readFallback.addTags({ ...ref(env, runId), tags });
      settle(result);
      if (result.outcome === "too_many_tags") {
        throw new ApiError(422, `a run carries at most ${result.limit} tags`, "TOO_MANY_TAGS");
      }
      return current(env, runId);
    },

    /**
     * Sets metadata to `next(current)` (pure: it may run again on a concurrent update);
     * with `expectedVersion`, only if the run is still at that version.
     */
    async setMetadata(
      env: SeededEnvironment,
      runId: string,
      next: (current: unknown) => unknown,
      expectedVersion: number | undefined,
    ): Promise<RunView> {
      if (expectedVersion !== undefined) {
        const before = await current(env, runId);
        if (before.metadataVersion !== expectedVersion) {
          throw new ApiError(409, `metadata version is ${before.metadataVersion}`, "VERSION_CONFLICT");
        }
      }
      const update = (current: string | undefined) =>
        JSON.stringify(next(current === undefined ? null : JSON.parse(current)) ?? null);
      const result = await readFallback.updateMetadata({ ...ref(env, runId), update });
      settle(result);
      if (result.outcome === "version_conflict") {
        throw new ApiError(409, `metadata version is ${result.version}`, "VERSION_CONFLICT");
      }
      return current(env, runId);
    },

    /** Frees an idempotency key in the database, the buffer and the claim store. */
    async resetIdempotencyKey(env: SeededEnvironment, taskId: string, key: string) {
      const result = await readFallback.resetIdempotencyKey({
        orgId: env.orgId,
        envId: env.envId,
        taskId,
        idempotencyKey: key,
      });
      if (result.outcome === "not_found") throw notFound("idempotency key");
      settle(result);
      return { runIds: result.outcome === "reset" ? result.runIds : [] };
    },

    async listBuffered(env: SeededEnvironment, cursor: string | undefined, limit: number) {
      const page = await buffer.listEntries({
        orgId: env.orgId,
        envId: env.envId,
        ...(cursor !== undefined ? { cursor } : {}),
        limit,
      });
      const data: RunView[] = [];
      for (const entry of page.entries) {
        const view = await find(env, entry.runId);
        if (view) data.push(view);
      }
      return {
        depth: await buffer.depth({ orgId: env.orgId, envId: env.envId }),
        data,
        nextCursor: page.nextCursor ?? null,
      };
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
