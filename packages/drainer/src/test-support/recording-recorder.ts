import type { MollifierRecorder } from "@mollifier/telemetry";

type Events = { [Method in keyof MollifierRecorder]: Array<Parameters<MollifierRecorder[Method]>[0]> };

/** A recorder that keeps every event, for assertions. */
export function recordingRecorder(): MollifierRecorder & { readonly events: Events } {
  const events: Events = {
    decision: [],
    buffered: [],
    drained: [],
    retried: [],
    failed: [],
    reaped: [],
    claim: [],
    degraded: [],
    drainLimits: [],
    bufferStats: [],
  };
  return {
    events,
    decision: (event) => events.decision.push(event),
    buffered: (event) => events.buffered.push(event),
    drained: (event) => events.drained.push(event),
    retried: (event) => events.retried.push(event),
    failed: (event) => events.failed.push(event),
    reaped: (event) => events.reaped.push(event),
    claim: (event) => events.claim.push(event),
    degraded: (event) => events.degraded.push(event),
    drainLimits: (event) => events.drainLimits.push(event),
    bufferStats: (event) => events.bufferStats.push(event),
  };
}
