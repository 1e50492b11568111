import type { LeasedEntry } from "@mollifier/buffer";
import type { MollifierMode } from "../config.server";
import type { RunEngine } from "../engine/run-engine.server";
import type { NewRun, RunStatus } from "../engine/run-record";

/** Thrown by the handler for a failure no retry can fix. */
export class TerminalDrainError extends Error {
  override readonly name = "TerminalDrainError";
}

export interface MaterialiseCounters {
  /** Rows the drainer created. */
  created: number;
  /** Dual-write: entries whose row the trigger request had already written. */
  verified: number;
  /** Dual-write: entries whose row was missing and was written by the drainer. */
  repaired: number;
}

function parseMetadata(text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** The row a buffered entry becomes, with the mutations made while it was buffered applied. */
export function runFromEntry(entry: LeasedEntry, clock: () => number): NewRun {
  const { snapshot, mutations } = entry;
  const delayUntil = mutations.delayUntil ?? snapshot.options.delayUntil;
  const status: RunStatus = mutations.canceled
    ? "CANCELED"
    : delayUntil !== undefined && delayUntil > clock()
      ? "DELAYED"
      : "QUEUED";
  return {
    id: snapshot.runId,
    orgId: snapshot.orgId,
    envId: snapshot.envId,
    taskId: snapshot.taskId,
    status,
    payload: snapshot.payload,
    idempotencyKey: mutations.idempotencyReset ? undefined : snapshot.options.idempotencyKey,
    idempotencyKeyExpiresAt: mutations.idempotencyReset
      ? undefined
      : snapshot.options.idempotencyKeyExpiresAt,
    tags: [...new Set([...(snapshot.options.tags ?? []), ...mutations.tags])],
    metadata: parseMetadata(mutations.metadata, snapshot.options.metadata),
    metadataVersion: mutations.metadataVersion,
    delayUntil,
    parentRunId: snapshot.options.parentRunId,
    oneTimeUseToken: undefined,
    error: undefined,
    source: "drainer",
    createdAt: snapshot.createdAt,
  };
}

/**
 * The drainer's handler: writes the buffered run to the database exactly once.
 * In dual-write mode the request already wrote it, so this checks the row
 * exists (and writes it if the request's write was lost).
 */
export function createMaterialiser(options: {
  engine: RunEngine;
  mode: () => MollifierMode;
  clock?: () => number;
}) {
  const clock = options.clock ?? Date.now;
  const counters: MaterialiseCounters = { created: 0, verified: 0, repaired: 0 };

  async function handler(entry: LeasedEntry): Promise<void> {
    const run = runFromEntry(entry, clock);
    if (options.mode() === "dual-write" && (await options.engine.findRun(run.envId, run.id))) {
      counters.verified++;
      return;
    }
    const result = await options.engine.createRun(run);
    if (result.outcome === "created") {
      if (options.mode() === "dual-write") counters.repaired++;
      else counters.created++;
      return;
    }
    if (result.outcome === "duplicate_run") return;
    // Another run already holds the key: keep this run id's promise (it exists once)
    // as a failed run rather than writing a second run for the same key.
    await options.engine.createRun({
      ...run,
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error:
        result.outcome === "duplicate_idempotency"
          ? `idempotency key already used by run ${result.run.id}`
          : "one-time-use token already used",
    });
  }

  async function onTerminalFailure(entry: LeasedEntry, error: unknown): Promise<void> {
    const run = runFromEntry(entry, clock);
    await options.engine.createRun({
      ...run,
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error: error instanceof Error ? error.message : String(error),
    });
  }

  return { handler, onTerminalFailure, counters };
}
