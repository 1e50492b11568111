import type { RunStatus } from "./run-record";

/**
 * The status a new run starts in: `DELAYED` while its start lies in the
 * future, else `QUEUED`. The one rule for a run written by the trigger
 * request, answered from the buffer, or materialised by the drainer.
 */
export function initialRunStatus(
  delayUntil: number | undefined,
  now: number,
): Extract<RunStatus, "QUEUED" | "DELAYED"> {
  return delayUntil !== undefined && delayUntil > now ? "DELAYED" : "QUEUED";
}
