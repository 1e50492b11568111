import { expect, test } from "vitest";
import { createRecorder } from "./create-recorder.js";
import { noopRecorder } from "./noop-recorder.js";
import type { MollifierRecorder } from "./recorder.js";

// This file never imports @opentelemetry/sdk-metrics: it runs as a package does without an SDK.

function recordEverything(recorder: MollifierRecorder): void {
  const run = { orgId: "org", envId: "env", runId: "run" };
  recorder.decision({ action: "pass_through", reason: "not_enrolled" });
  recorder.buffered({ ...run, taskId: "task", outcome: "accepted" });
  recorder.drained({ ...run, timeInBufferMs: 1, handlerDurationMs: 1 });
  recorder.retried({ ...run, attempts: 1, delayMs: 1, error: "e" });
  recorder.failed({ ...run, kind: "terminal", attempts: 1, error: "e" });
  recorder.reaped({ count: 1 });
  recorder.claim({ outcome: "claimed" });
  recorder.degraded({ component: "drainer", reason: "ack_failed" });
  recorder.drainLimits({ ratePerSecond: undefined, concurrency: 1 });
  recorder.bufferStats({ depth: 0, oldestEntryAgeMs: 0, leasesInFlight: 0 });
}

test("the noop recorder accepts every event without any OpenTelemetry SDK", () => {
  expect(() => recordEverything(noopRecorder)).not.toThrow();
});

test("the noop recorder cannot be modified by a caller", () => {
  expect(Object.isFrozen(noopRecorder)).toBe(true);
});

test("createRecorder without a meter and without an SDK records into the API's no-op meter", () => {
  const recorder = createRecorder();

  expect(() => recordEverything(recorder)).not.toThrow();
  recorder.close();
});
