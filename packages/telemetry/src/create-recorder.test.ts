import { type Attributes, type Meter, metrics, type Span } from "@opentelemetry/api";
import { DataPointType } from "@opentelemetry/sdk-metrics";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createRecorder, type RecorderOptions } from "./create-recorder.js";
import { metricCatalog, metricDefinitions } from "./metric-catalog.js";
import type { LogFields, LogLevel, MollifierLogger } from "./mollifier-logger.js";
import type { MollifierRecorder } from "./recorder.js";
import { TelemetryError } from "./telemetry-error.js";
import { createTestMeter, exportedKind, type TestMeter } from "./test-meter.js";

const run = { orgId: "org_a", envId: "env_a", runId: "run_1" };

// One event of every kind, so that every catalog metric has data.
function recordOneOfEach(recorder: MollifierRecorder): void {
  recorder.decision({ action: "mollify", reason: "per_env_rate", ...run });
  recorder.buffered({ ...run, taskId: "send-email", outcome: "accepted" });
  recorder.drained({ ...run, timeInBufferMs: 1_200, handlerDurationMs: 30 });
  recorder.retried({ ...run, attempts: 1, delayMs: 500, error: "deadlock" });
  recorder.failed({ ...run, kind: "terminal", attempts: 1, error: "bad payload" });
  recorder.reaped({ count: 3 });
  recorder.claim({ outcome: "claimed", orgId: "org_a", envId: "env_a" });
  recorder.degraded({ component: "gate", reason: "timeout", error: new Error("slow"), ...run });
  recorder.drainLimits({ ratePerSecond: 250, concurrency: 8 });
  recorder.bufferStats({ depth: 42, oldestEntryAgeMs: 9_000, leasesInFlight: 5 });
}

let testMeter: TestMeter;

beforeEach(() => {
  testMeter = createTestMeter();
});

afterEach(async () => {
  metrics.disable();
  await testMeter.shutdown();
});

describe("createRecorder on the OpenTelemetry SDK", () => {
  test("exports every catalog metric, and only those, with its name, kind, unit and description", async () => {
    recordOneOfEach(createRecorder({ meter: testMeter.meter }));

    const exported = await testMeter.collect();

    expect(exported.map((metric) => metric.descriptor.name).sort()).toEqual(
      metricDefinitions.map((definition) => definition.name).sort(),
    );
    for (const definition of metricDefinitions) {
      const metric = exported.find((candidate) => candidate.descriptor.name === definition.name);
      expect(metric && exportedKind(metric), definition.name).toBe(definition.kind);
      expect(metric?.descriptor.unit, definition.name).toBe(definition.unit);
      expect(metric?.descriptor.description, definition.name).toBe(definition.description);
    }
  });

  test("exports each metric with exactly the catalog's label keys", async () => {
    recordOneOfEach(createRecorder({ meter: testMeter.meter }));

    for (const metric of await testMeter.collect()) {
      const definition = metricDefinitions.find((candidate) => candidate.name === metric.descriptor.name);
      const allowedKeys = Object.keys(definition?.labels ?? {}).sort();
      for (const point of metric.dataPoints) {
        expect(Object.keys(point.attributes).sort(), metric.descriptor.name).toEqual(allowedKeys);
      }
    }
  });

  test("counts decisions by action and reason", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.decision({ action: "mollify", reason: "per_env_rate" });
    recorder.decision({ action: "mollify", reason: "per_env_rate" });
    recorder.decision({ action: "pass_through", reason: "degraded" });

    const metric = await testMeter.metric(metricCatalog.decisions.name);

    expect(metric?.dataPoints.map((point) => [point.attributes, point.value])).toEqual([
      [{ action: "mollify", reason: "per_env_rate" }, 2],
      [{ action: "pass_through", reason: "degraded" }, 1],
    ]);
  });

  test("counts accepts by outcome, failures by kind, claims by outcome and degradations by component and reason", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.buffered({ ...run, taskId: "t", outcome: "duplicate_idempotency" });
    recorder.failed({ ...run, kind: "attempts_exhausted", attempts: 5, error: "e" });
    recorder.claim({ outcome: "timed_out" });
    recorder.degraded({ component: "claim", reason: "redis_error" });

    const exported = await testMeter.collect();
    const pointsOf = (name: string) =>
      exported
        .find((metric) => metric.descriptor.name === name)
        ?.dataPoints.map((point) => [point.attributes, point.value]);

    expect(pointsOf(metricCatalog.accepts.name)).toEqual([[{ outcome: "duplicate_idempotency" }, 1]]);
    expect(pointsOf(metricCatalog.failures.name)).toEqual([[{ kind: "attempts_exhausted" }, 1]]);
    expect(pointsOf(metricCatalog.claims.name)).toEqual([[{ outcome: "timed_out" }, 1]]);
    expect(pointsOf(metricCatalog.degraded.name)).toEqual([
      [{ component: "claim", reason: "redis_error" }, 1],
    ]);
  });

  test("adds the number of reaped leases and ignores reaper passes that found none", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.reaped({ count: 0 });
    recorder.reaped({ count: 2 });
    recorder.reaped({ count: 3 });

    const metric = await testMeter.metric(metricCatalog.leasesReaped.name);

    expect(metric?.dataPoints.map((point) => point.value)).toEqual([5]);
  });

  test("records time in buffer and handler duration in ms histograms with the catalog's buckets", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.drained({ ...run, timeInBufferMs: 1_200, handlerDurationMs: 30 });
    recorder.drained({ ...run, runId: "run_2", timeInBufferMs: 800, handlerDurationMs: 10 });

    const exported = await testMeter.collect();
    for (const definition of [metricCatalog.timeInBuffer, metricCatalog.handlerDuration]) {
      const metric = exported.find((candidate) => candidate.descriptor.name === definition.name);
      if (metric?.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${definition.name} missing`);
      const [point] = metric.dataPoints;
      expect(point?.value.count).toBe(2);
      expect(point?.value.buckets.boundaries).toEqual(definition.buckets);
    }
    const timeInBuffer = exported.find(
      (metric) => metric.descriptor.name === metricCatalog.timeInBuffer.name,
    );
    expect(timeInBuffer?.dataPoints[0]?.value).toMatchObject({ sum: 2_000, min: 800, max: 1_200 });
  });

  test("gauges report the latest buffer stats and drain limits the app fed", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.bufferStats({ depth: 10, oldestEntryAgeMs: 100, leasesInFlight: 1 });
    recorder.bufferStats({ depth: 42, oldestEntryAgeMs: 9_000, leasesInFlight: 5 });
    recorder.drainLimits({ ratePerSecond: 250, concurrency: 8 });

    const exported = await testMeter.collect();
    const valuesOf = (name: string) =>
      exported.find((metric) => metric.descriptor.name === name)?.dataPoints.map((point) => point.value);

    expect(valuesOf(metricCatalog.bufferDepth.name)).toEqual([42]);
    expect(valuesOf(metricCatalog.oldestEntryAge.name)).toEqual([9_000]);
    expect(valuesOf(metricCatalog.leasesInFlight.name)).toEqual([5]);
    expect(valuesOf(metricCatalog.drainRateLimit.name)).toEqual([250]);
    expect(valuesOf(metricCatalog.drainConcurrency.name)).toEqual([8]);
  });

  test("gauges report nothing before the app feeds stats, and no rate limit while the drain is uncapped", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    const names = () =>
      testMeter.collect().then((exported) => exported.map((metric) => metric.descriptor.name));

    expect(await names()).toEqual([]);

    recorder.drainLimits({ ratePerSecond: 100, concurrency: 4 });
    recorder.drainLimits({ ratePerSecond: undefined, concurrency: 4 });
    expect(await names()).toEqual([metricCatalog.drainConcurrency.name]);
  });

  test("ignores negative, NaN and infinite measurements instead of corrupting sums and histograms", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.drained({ ...run, timeInBufferMs: -5, handlerDurationMs: Number.NaN });
    recorder.reaped({ count: -1 });
    recorder.bufferStats({ depth: Number.POSITIVE_INFINITY, oldestEntryAgeMs: -1, leasesInFlight: 2 });

    const exported = await testMeter.collect();

    expect(exported.map((metric) => metric.descriptor.name).sort()).toEqual(
      [metricCatalog.drained.name, metricCatalog.leasesInFlight.name].sort(),
    );
  });

  test("uses the global meter provider registered before createRecorder is called, not at import", async () => {
    metrics.setGlobalMeterProvider(testMeter.provider);
    createRecorder().decision({ action: "shadow_log", reason: "shadow" });

    const metric = await testMeter.metric(metricCatalog.decisions.name);

    expect(metric?.dataPoints.map((point) => point.attributes)).toEqual([
      { action: "shadow_log", reason: "shadow" },
    ]);
  });

  test("close detaches the gauges and stops recording; a second close is harmless", async () => {
    const recorder = createRecorder({ meter: testMeter.meter });
    recorder.bufferStats({ depth: 1, oldestEntryAgeMs: 1, leasesInFlight: 1 });
    recorder.close();
    recorder.close();
    recorder.decision({ action: "mollify", reason: "per_env_rate" });
    recorder.bufferStats({ depth: 2, oldestEntryAgeMs: 2, leasesInFlight: 2 });

    expect(await testMeter.collect()).toEqual([]);
  });
});

describe("createRecorder log events", () => {
  test("buffered and drained log events carry the run, org and env ids and pair by run id", () => {
    const logger = createListLogger();
    recordOneOfEach(createRecorder({ meter: testMeter.meter, logger }));

    expect(logger.lines.filter((line) => line.event === "mollifier.buffered")).toEqual([
      {
        level: "info",
        event: "mollifier.buffered",
        fields: { runId: "run_1", orgId: "org_a", envId: "env_a", taskId: "send-email", outcome: "accepted" },
      },
    ]);
    expect(logger.lines.filter((line) => line.event === "mollifier.drained")).toEqual([
      {
        level: "info",
        event: "mollifier.drained",
        fields: {
          runId: "run_1",
          orgId: "org_a",
          envId: "env_a",
          timeInBufferMs: 1_200,
          handlerDurationMs: 30,
        },
      },
    ]);
  });

  test("retried, failed, reaped and degraded are logged at warn or error with their details", () => {
    const logger = createListLogger();
    recordOneOfEach(createRecorder({ meter: testMeter.meter, logger }));

    expect(
      logger.lines.filter(
        (line) => line.event !== "mollifier.buffered" && line.event !== "mollifier.drained",
      ),
    ).toEqual([
      {
        level: "warn",
        event: "mollifier.retried",
        fields: { ...run, attempts: 1, delayMs: 500, error: "deadlock" },
      },
      {
        level: "error",
        event: "mollifier.failed",
        fields: { ...run, kind: "terminal", attempts: 1, error: "bad payload" },
      },
      { level: "warn", event: "mollifier.reaped", fields: { count: 3 } },
      {
        level: "warn",
        event: "mollifier.degraded",
        fields: { component: "gate", reason: "timeout", error: "Error: slow", ...run },
      },
    ]);
  });

  test("a trigger refused for capacity is logged at warn", () => {
    const logger = createListLogger();
    createRecorder({ meter: testMeter.meter, logger }).buffered({
      ...run,
      taskId: "t",
      outcome: "over_capacity",
    });

    expect(logger.lines.map((line) => [line.level, line.event])).toEqual([["warn", "mollifier.buffered"]]);
  });

  test("a logger that throws never throws into the caller, and metrics are still recorded", async () => {
    const throwingLogger = {
      info: () => {
        throw new Error("log sink down");
      },
      warn: () => {
        throw new Error("log sink down");
      },
      error: () => {
        throw new Error("log sink down");
      },
    };
    const recorder = createRecorder({ meter: testMeter.meter, logger: throwingLogger });

    expect(() => recordOneOfEach(recorder)).not.toThrow();
    expect((await testMeter.collect()).length).toBe(metricDefinitions.length);
  });

  test("a meter whose instruments throw never throws into the caller, and the failure is logged", () => {
    const logger = createListLogger();
    const recorder = createRecorder({ meter: createThrowingMeter(), logger });

    expect(() => recordOneOfEach(recorder)).not.toThrow();
    expect(logger.lines.filter((line) => line.event === "mollifier.recorder_error")).toContainEqual({
      level: "error",
      event: "mollifier.recorder_error",
      fields: { method: "decision", error: "Error: meter down" },
    });
    expect(logger.lines.map((line) => line.event)).toContain("mollifier.drained");
  });

  test("a malformed event from an untyped caller never throws into the caller", () => {
    const recorder = createRecorder({ meter: testMeter.meter, logger: createListLogger() });
    const malformed = null as unknown as never;

    const methods = Object.keys(recorder).filter((key) => key !== "close") as (keyof MollifierRecorder)[];

    expect(methods).toHaveLength(10);
    for (const method of methods) {
      expect(() => recorder[method](malformed), method).not.toThrow();
    }
  });
});

describe("createRecorder span annotations", () => {
  test("tags the active span with the decision and its ids, which metrics never carry", () => {
    const span = createRecordingSpan();
    const recorder = createRecorder({ meter: testMeter.meter, activeSpan: () => span });
    recorder.decision({ action: "mollify", reason: "per_env_rate", ...run });
    recorder.claim({ outcome: "resolved", orgId: "org_a", envId: "env_a" });

    expect(span.attributes).toEqual({
      "mollifier.gate_action": "mollify",
      "mollifier.gate_reason": "per_env_rate",
      "mollifier.org_id": "org_a",
      "mollifier.env_id": "env_a",
      "mollifier.run_id": "run_1",
      "mollifier.claim_outcome": "resolved",
    });
  });

  test("adds every logged event to the active span with the same fields", () => {
    const span = createRecordingSpan();
    recordOneOfEach(createRecorder({ meter: testMeter.meter, activeSpan: () => span }));

    expect(span.events.map((event) => event.name)).toEqual([
      "mollifier.buffered",
      "mollifier.drained",
      "mollifier.retried",
      "mollifier.failed",
      "mollifier.reaped",
      "mollifier.degraded",
    ]);
    expect(span.events[1]?.attributes).toEqual({
      "mollifier.run_id": "run_1",
      "mollifier.org_id": "org_a",
      "mollifier.env_id": "env_a",
      "mollifier.time_in_buffer_ms": 1_200,
      "mollifier.handler_duration_ms": 30,
    });
  });

  test("leaves a span that is not recording untouched, and survives a throwing span source", () => {
    const idle = createRecordingSpan(false);
    recordOneOfEach(createRecorder({ meter: testMeter.meter, activeSpan: () => idle }));
    const throwing = createRecorder({
      meter: testMeter.meter,
      activeSpan: () => {
        throw new Error("no context");
      },
    });

    expect(() => recordOneOfEach(throwing)).not.toThrow();
    expect(idle.attributes).toEqual({});
    expect(idle.events).toEqual([]);
  });
});

describe("createRecorder options", () => {
  test("rejects a meter that is not an OpenTelemetry Meter, naming the option", () => {
    const attempt = () => createRecorder({ meter: {} as Meter });
    expect(attempt).toThrow(/RecorderOptions\.meter/);
    expect(TelemetryError.isInstance(captureError(attempt))).toBe(true);
  });

  test("rejects a logger without info, warn and error, naming the option", () => {
    const logger = { info: () => {} } as unknown as RecorderOptions["logger"];
    const attempt = () => createRecorder({ logger });
    expect(attempt).toThrow(/RecorderOptions\.logger/);
    expect(captureError(attempt)).toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

interface LogLine {
  readonly level: LogLevel;
  readonly event: string;
  readonly fields: LogFields;
}

function createListLogger(): MollifierLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (event, fields) => lines.push({ level: "info", event, fields }),
    warn: (event, fields) => lines.push({ level: "warn", event, fields }),
    error: (event, fields) => lines.push({ level: "error", event, fields }),
  };
}

function createThrowingMeter(): Meter {
  const fail = (): never => {
    throw new Error("meter down");
  };
  const instrument = { add: fail, record: fail, addCallback: () => {}, removeCallback: () => {} };
  return {
    createCounter: () => instrument,
    createUpDownCounter: () => instrument,
    createHistogram: () => instrument,
    createGauge: () => instrument,
    createObservableGauge: () => instrument,
    createObservableCounter: () => instrument,
    createObservableUpDownCounter: () => instrument,
    addBatchObservableCallback: () => {},
    removeBatchObservableCallback: () => {},
  };
}

interface FakeSpan extends Span {
  readonly attributes: Attributes;
  readonly events: { name: string; attributes: Attributes | undefined }[];
}

// Only what the recorder touches is real; the rest of the Span interface is inert.
function createRecordingSpan(recording = true): FakeSpan {
  const attributes: Attributes = {};
  const events: FakeSpan["events"] = [];
  const span: FakeSpan = {
    attributes,
    events,
    isRecording: () => recording,
    setAttributes(values) {
      Object.assign(attributes, values);
      return span;
    },
    setAttribute(key, value) {
      attributes[key] = value;
      return span;
    },
    addEvent(name, attributesOrTime) {
      events.push({ name, attributes: isAttributes(attributesOrTime) ? attributesOrTime : undefined });
      return span;
    },
    spanContext: () => ({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 }),
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => span,
    updateName: () => span,
    end: () => {},
    recordException: () => {},
  };
  return span;
}

function isAttributes(value: unknown): value is Attributes {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
