import type { RunEngine, UpdateRunResult } from "../engine/run-engine.server";
import type { SeededEnvironment } from "../engine/seed.server";
import type { AppBuffer, BufferEntryView } from "../mollifier/buffer-port";
import type { createIdempotencyClaims } from "../mollifier/idempotency-claims.server";
import { ApiError, notFound } from "./api-error";
import { type RunView, viewFromEntry, viewFromRecord } from "./run-view";

export interface RunServiceDependencies {
  readonly engine: RunEngine;
  readonly buffer: AppBuffer;
  readonly claims: ReturnType<typeof createIdempotencyClaims>;
  readonly clock?: () => number;
  /** How long a mutation waits for a run being written to land. @default 5_000 */
  readonly landingWaitMs?: number;
}

/**
 * Reads and mutations that see a run wherever it is: the database first, then
 * the buffer. A run being materialised (leased) is waited for, by polling the
 * buffer, then mutated in the database.
 */
export function createRunService(dependencies: RunServiceDependencies) {
  const { engine, buffer, claims } = dependencies;
  const clock = dependencies.clock ?? Date.now;
  const landingWaitMs = dependencies.landingWaitMs ?? 5_000;
  const ref = (env: SeededEnvironment, runId: string) => ({ orgId: env.orgId, envId: env.envId, runId });

  async function entryOf(env: SeededEnvironment, runId: string): Promise<BufferEntryView | undefined> {
    try {
      return await buffer.getEntry(ref(env, runId));
    } catch {
      return undefined;
    }
  }

  async function find(env: SeededEnvironment, runId: string): Promise<RunView | undefined> {
    const stored = await engine.findRun(env.envId, runId);
    if (stored) return viewFromRecord(stored);
    const entry = await entryOf(env, runId);
    if (entry) return viewFromEntry(entry, clock());
    // It may have been drained between the two reads.
    const drained = await engine.findRun(env.envId, runId);
    return drained ? viewFromRecord(drained) : undefined;
  }

  /** Waits (polling Redis) for a leased entry to leave the buffer. */
  async function awaitLanding(env: SeededEnvironment, runId: string): Promise<void> {
    const deadline = clock() + landingWaitMs;
    while (clock() < deadline) {
      const entry = await entryOf(env, runId);
      if (!entry || entry.state !== "leased") return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new ApiError(409, "the run is being written to the database; retry shortly", "BUSY");
  }

  /**
   * Applies a mutation where the run lives: `inDatabase` when stored,
   * `inBuffer` while buffered (answering `busy` while leased).
   */
  async function mutate<T extends { outcome: string }>(
    env: SeededEnvironment,
    runId: string,
    inDatabase: () => Promise<RunView>,
    inBuffer: () => Promise<T>,
    fromBuffer: (result: T) => Promise<RunView>,
  ): Promise<RunView> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await engine.findRun(env.envId, runId)) return inDatabase();
      const result = await inBuffer();
      if (result.outcome === "busy") {
        await awaitLanding(env, runId);
        continue;
      }
      if (result.outcome === "not_found") {
        if (await engine.findRun(env.envId, runId)) return inDatabase();
        throw notFound();
      }
      return fromBuffer(result);
    }
    throw new ApiError(409, "the run is being written to the database; retry shortly", "BUSY");
  }

  const bufferedView = async (env: SeededEnvironment, runId: string) => {
    const view = await find(env, runId);
    if (!view) throw notFound();
    return view;
  };

  const fromUpdate = (result: UpdateRunResult): RunView => {
    if (result.outcome === "updated") return viewFromRecord(result.run);
    if (result.outcome === "too_many_tags") {
      throw new ApiError(422, `a run carries at most ${result.limit} tags`, "TOO_MANY_TAGS");
    }
    if (result.outcome === "version_conflict") {
      throw new ApiError(409, `metadata version is ${result.version}`, "VERSION_CONFLICT");
    }
    throw notFound();
  };

  return {
    find,

    cancel: (env: SeededEnvironment, runId: string, reason: string) =>
      mutate(
        env,
        runId,
        async () => {
          const result = await engine.cancelRun(env.envId, runId);
          if (result.outcome === "not_found") throw notFound();
          return viewFromRecord(result.run);
        },
        () => buffer.cancel({ ...ref(env, runId), reason }),
        () => bufferedView(env, runId),
      ),

    addTags: (env: SeededEnvironment, runId: string, tags: string[]) =>
      mutate(
        env,
        runId,
        async () => fromUpdate(await engine.addTags(env.envId, runId, tags)),
        () => buffer.addTags({ ...ref(env, runId), tags }),
        async (result) => {
          if (result.outcome === "too_many_tags") {
            throw new ApiError(422, `a run carries at most ${result.limit} tags`, "TOO_MANY_TAGS");
          }
          return bufferedView(env, runId);
        },
      ),

    setMetadata: (
      env: SeededEnvironment,
      runId: string,
      metadata: unknown,
      expectedVersion: number | undefined,
    ) =>
      mutate(
        env,
        runId,
        async () => fromUpdate(await engine.setMetadata(env.envId, runId, metadata, expectedVersion)),
        async () => {
          let version = expectedVersion;
          if (version === undefined) {
            const entry = await entryOf(env, runId);
            if (!entry) return { outcome: "not_found" } as const;
            version = entry.mutations.metadataVersion;
          }
          return buffer.setMetadata({
            ...ref(env, runId),
            metadata: JSON.stringify(metadata ?? null),
            expectedVersion: version,
          });
        },
        async (result) => {
          if (result.outcome === "version_conflict") {
            throw new ApiError(409, `metadata version is ${result.version}`, "VERSION_CONFLICT");
          }
          return bufferedView(env, runId);
        },
      ),

    /** Frees an idempotency key in the database, the buffer and the claim store. */
    async resetIdempotencyKey(
      env: SeededEnvironment,
      taskId: string,
      key: string,
    ): Promise<{ reset: number }> {
      const idempotency = { orgId: env.orgId, envId: env.envId, taskId, idempotencyKey: key };
      let reset = await engine.resetIdempotencyKey(env.envId, taskId, key);
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await buffer.resetIdempotency(idempotency);
        if (result.outcome === "busy") {
          const held = await buffer.lookupIdempotency(idempotency);
          if (held.outcome === "found") await awaitLanding(env, held.runId);
          reset += await engine.resetIdempotencyKey(env.envId, taskId, key);
          continue;
        }
        if (result.outcome === "reset") reset++;
        break;
      }
      await claims.resetResolved(idempotency);
      if (reset === 0) throw notFound("idempotency key");
      return { reset };
    },

    async listBuffered(env: SeededEnvironment, cursor: string | undefined, limit: number) {
      const page = await buffer.listEntries({
        orgId: env.orgId,
        envId: env.envId,
        ...(cursor !== undefined ? { cursor } : {}),
        limit,
      });
      return {
        depth: await buffer.depth({ orgId: env.orgId, envId: env.envId }),
        data: page.entries.map((entry) => viewFromEntry(entry, clock())),
        nextCursor: page.nextCursor ?? null,
      };
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
