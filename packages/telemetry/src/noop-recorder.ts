import type { MollifierRecorder } from "./recorder.js";

const ignore = (): void => {};

/** A recorder that records nothing: the default when no recorder is passed. */
export const noopRecorder: MollifierRecorder = Object.freeze({
  decision: ignore,
  buffered: ignore,
  drained: ignore,
  retried: ignore,
  failed: ignore,
  reaped: ignore,
  claim: ignore,
  degraded: ignore,
  drainLimits: ignore,
  bufferStats: ignore,
});
