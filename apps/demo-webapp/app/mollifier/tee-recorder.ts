import type { MollifierRecorder } from "@mollifier/telemetry";

/** One recorder that forwards every event to each of `recorders` (the dashboard and OpenTelemetry). */
export function teeRecorder(...recorders: MollifierRecorder[]): MollifierRecorder {
  const forward =
    <Key extends keyof MollifierRecorder>(key: Key) =>
    (event: Parameters<MollifierRecorder[Key]>[0]): void => {
      for (const recorder of recorders) {
        try {
          (recorder[key] as (value: typeof event) => void)(event);
        } catch {
          // A recorder must never fail the caller.
        }
      }
    };
  return {
    decision: forward("decision"),
    buffered: forward("buffered"),
    drained: forward("drained"),
    retried: forward("retried"),
    failed: forward("failed"),
    reaped: forward("reaped"),
    claim: forward("claim"),
    degraded: forward("degraded"),
    drainLimits: forward("drainLimits"),
    bufferStats: forward("bufferStats"),
  };
}
