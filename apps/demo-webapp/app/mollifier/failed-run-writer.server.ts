import type { FailedEntryView } from "@mollifier/buffer";
import { type FailedEvent, type MollifierRecorder, noopRecorder } from "@mollifier/telemetry";
import type { RunEngine } from "../engine/run-engine.server";
import { runFromEntry } from "./materialise.server";

/**
 * A recorder that makes sure every entry the buffer fails has a
 * `SYSTEM_FAILURE` row, whichever path failed it: the drainer's terminal hook
 * already writes one, but the lease reaper also fails entries that ran out of
 * attempts (a crash loop), and those reach the app only as a `failed` event.
 * The insert is keyed by the run id, so a row already written is left as it is.
 */
export function createFailedRunWriter(options: {
  engine: RunEngine;
  getFailed: (ref: { orgId: string; envId: string; runId: string }) => Promise<FailedEntryView | undefined>;
  clock?: () => number;
  onError?: (error: unknown, event: FailedEvent) => void;
}): MollifierRecorder {
  const clock = options.clock ?? Date.now;
  async function write(event: FailedEvent): Promise<void> {
    if (await options.engine.findRun(event.envId, event.runId)) return;
    const failed = await options.getFailed(event);
    // An entry whose snapshot no longer parses cannot become a row; it stays inspectable in the buffer.
    if (!failed?.snapshot) return;
    const run = runFromEntry(
      {
        ...failed,
        leaseToken: "",
        leaseDeadline: 0,
        snapshot: failed.snapshot,
        mutations: { tags: [], metadataVersion: 0, idempotencyReset: false },
      },
      clock,
    );
    await options.engine.createRun({
      ...run,
      idempotencyKey: undefined,
      idempotencyKeyExpiresAt: undefined,
      status: "SYSTEM_FAILURE",
      error: `${event.kind}: ${event.error}`,
    });
  }
  return {
    ...noopRecorder,
    failed(event) {
      write(event).catch((error: unknown) => options.onError?.(error, event));
    },
  };
}
