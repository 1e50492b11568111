import type { RunRecord as FallbackRunRecord, RunStore } from "@mollifier/read-fallback";
import type { RunEngine } from "./run-engine.server";
import type { RunRecord } from "./run-record";

function toFallbackRecord(run: RunRecord): FallbackRunRecord {
  return {
    id: run.id,
    orgId: run.orgId,
    envId: run.envId,
    taskId: run.taskId,
    status: run.status,
    payload: run.payload,
    tags: run.tags,
    // The read fallback carries metadata as JSON text, as the buffer stores it.
    metadata: run.metadata === undefined || run.metadata === null ? undefined : JSON.stringify(run.metadata),
    metadataVersion: run.metadataVersion,
    idempotencyKey: run.idempotencyKey,
    idempotencyKeyExpiresAt: run.idempotencyKeyExpiresAt,
    createdAt: run.createdAt,
    delayUntil: run.delayUntil,
  };
}

/** The run engine as `@mollifier/read-fallback`'s `RunStore` port. */
export function createRunStore(engine: RunEngine): RunStore {
  const owned = (run: RunRecord | undefined, orgId: string) => (run && run.orgId === orgId ? run : undefined);
  return {
    async findRun(ref) {
      const run = owned(await engine.findRun(ref.envId, ref.runId), ref.orgId);
      return run ? toFallbackRecord(run) : undefined;
    },
    async findRunByIdempotencyKey(ref) {
      const run = owned(
        await engine.findByIdempotencyKey(ref.envId, ref.taskId, ref.idempotencyKey),
        ref.orgId,
      );
      return run ? toFallbackRecord(run) : undefined;
    },
    async cancelRun(request) {
      if (!owned(await engine.findRun(request.envId, request.runId), request.orgId))
        return { outcome: "not_found" };
      const result = await engine.cancelRun(request.envId, request.runId);
      if (result.outcome === "canceled") return { outcome: "canceled", at: request.at };
      if (result.outcome === "not_found") return result;
      return result.run.status === "CANCELED"
        ? { outcome: "already_canceled", at: result.run.writtenAt }
        : { outcome: "not_cancelable", status: result.run.status };
    },
    async addTags(request) {
      if (!owned(await engine.findRun(request.envId, request.runId), request.orgId))
        return { outcome: "not_found" };
      const result = await engine.addTags(request.envId, request.runId, request.tags);
      if (result.outcome === "updated") return { outcome: "updated", tags: result.run.tags };
      if (result.outcome === "too_many_tags") return result;
      return { outcome: "not_found" };
    },
    async setMetadata(request) {
      if (!owned(await engine.findRun(request.envId, request.runId), request.orgId))
        return { outcome: "not_found" };
      const result = await engine.setMetadata(
        request.envId,
        request.runId,
        JSON.parse(request.metadata),
        request.expectedVersion,
      );
      if (result.outcome === "updated") return { outcome: "updated", version: result.run.metadataVersion };
      if (result.outcome === "version_conflict") return result;
      return { outcome: "not_found" };
    },
    async rescheduleRun(request) {
      if (!owned(await engine.findRun(request.envId, request.runId), request.orgId))
        return { outcome: "not_found" };
      const result = await engine.rescheduleRun(request.envId, request.runId, request.delayUntil);
      if (result.outcome === "updated") return { outcome: "updated", delayUntil: request.delayUntil };
      if (result.outcome === "not_delayed") return { outcome: "not_delayed", status: result.run.status };
      return result;
    },
    async resetIdempotencyKey(ref) {
      const runIds = await engine.resetIdempotencyKey(ref.envId, ref.taskId, ref.idempotencyKey);
      return runIds.length > 0 ? { outcome: "reset", runIds } : { outcome: "not_found" };
    },
  };
}
