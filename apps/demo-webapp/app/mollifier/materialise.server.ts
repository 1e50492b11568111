import {
  runFromEntry as bufferedRunFromEntry,
  type EntryMutations,
  type LeasedEntry,
} from "@mollifier/buffer";
import type { TerminalFailure } from "@mollifier/drainer";
import type { MollifierMode } from "../config.server";
import type { RunEngine } from "../engine/run-engine.server";
import type { NewRun } from "../engine/run-record";

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
  /** Entries whose idempotency key another run held when they drained: redirected to it. */
  redirected: number;
}

function parseMetadata(text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/**
 * The row a buffered entry becomes: `@mollifier/buffer`'s `runFromEntry` (every mutation made while
 * it was buffered applied; none when they could not be read, as for a failed entry's record), in
 * the engine's shape, with metadata as a value rather than JSON text.
 */
export function runFromEntry(
  entry: Pick<LeasedEntry, "snapshot"> & { readonly mutations?: EntryMutations },
  clock: () => number,
): NewRun {
  const {
    canceledAt: _canceledAt,
    cancelReason: _cancelReason,
    ...run
  } = bufferedRunFromEntry(entry, {
    now: clock(),
  });
  return {
    ...run,
    tags: [...run.tags],
    metadata: parseMetadata(run.metadata, entry.snapshot.options.metadata),
    oneTimeUseToken: undefined,
    error: undefined,
    source: "drainer",
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
  const counters: MaterialiseCounters = { created: 0, verified: 0, repaired: 0, redirected: 0 };

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
    if (result.outcome === "duplicate_idempotency") {
      // Another run already holds the key (written while this one was buffered, e.g. through a
      // Redis outage): this run is that run. Its id answers with the holder from now on; one run
      // per key executes, and the id its caller holds never ends as a failure (docs/adr/0008).
      await options.engine.redirectRun(run.envId, run.id, result.run.id, "idempotency_key_taken");
      counters.redirected++;
      return;
    }
    // The one-time-use token was spent by another run: this run cannot run, and says why.
    await options.engine.createRun({
      ...run,
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error: "one-time-use token already used",
    });
  }

  /**
   * The drainer's one terminal-failure hook: every entry that fails for good
   * (handler error, retries or leases exhausted) becomes a `SYSTEM_FAILURE`
   * row. The insert is keyed by the run id, so a row already written stays as
   * it is. An entry whose snapshot cannot be read cannot become a row; it
   * stays inspectable in the buffer's FAILED records.
   */
  async function onTerminalFailure(failure: TerminalFailure<LeasedEntry>): Promise<void> {
    const snapshot = failure.entry?.snapshot;
    if (snapshot === undefined) return;
    const run = runFromEntry({ snapshot, mutations: failure.entry?.mutations }, clock);
    await options.engine.createRun({
      ...run,
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error: failure.message,
    });
  }

  return { handler, onTerminalFailure, counters };
}
