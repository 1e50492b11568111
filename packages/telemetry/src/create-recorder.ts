import { invalidOptionMessage } from "@mollifier/core";
import {
  type Meter,
  metrics,
  type ObservableCallback,
  type ObservableGauge,
  type Span,
  trace,
} from "@opentelemetry/api";
import { createInstruments, type GaugeKey } from "./create-instruments.js";
import { guardLabels } from "./label-guards.js";
import { LOG_EVENTS, type LogFields, type LogLevel, type MollifierLogger } from "./mollifier-logger.js";
import type { MollifierRecorder } from "./recorder.js";
import { spanAttributesOf } from "./span-attributes.js";
import { TelemetryError } from "./telemetry-error.js";

/** The meter name used when no meter is passed. */
export const DEFAULT_METER_NAME = "@mollifier/telemetry";

/** Options of {@link createRecorder}. */
export interface RecorderOptions {
  /**
   * The meter every instrument is created on.
   * @default `metrics.getMeter(DEFAULT_METER_NAME)` from `@opentelemetry/api`, resolved when
   * `createRecorder` is called (register the global MeterProvider first; before that it is a no-op meter).
   */
  readonly meter?: Meter;
  /**
   * Receives the structured events (`mollifier.buffered`, `mollifier.drained`, ...) with run,
   * org and env ids, which metrics never carry.
   * @default no logging
   */
  readonly logger?: MollifierLogger;
  /**
   * Returns the span to annotate with the ids of the event being recorded: decisions and claims
   * set attributes on it (`mollifier.gate_action`, `mollifier.run_id`, ...), every logged event is
   * also added to it as a span event. Only recording spans are touched.
   * @default `trace.getActiveSpan` from `@opentelemetry/api` (nothing without a tracer SDK)
   */
  readonly activeSpan?: () => Span | undefined;
}

/** A {@link MollifierRecorder} on OpenTelemetry metrics that can be detached from its meter. */
export interface MetricsRecorder extends MollifierRecorder {
  /** Removes the gauge callbacks from the meter; every later call records nothing. Idempotent. */
  close(): void;
}

interface GaugeState {
  depth?: number;
  oldestEntryAgeMs?: number;
  leasesInFlight?: number;
  ratePerSecond?: number;
  concurrency?: number;
}

const GAUGE_SOURCES: Readonly<Record<GaugeKey, keyof GaugeState>> = {
  bufferDepth: "depth",
  oldestEntryAge: "oldestEntryAgeMs",
  leasesInFlight: "leasesInFlight",
  drainRateLimit: "ratePerSecond",
  drainConcurrency: "concurrency",
};

// Counts, durations and gauge readings are never negative; NaN or a negative
// value is a caller bug that must not poison a sum or a histogram.
function measurement(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function validateOptions(options: RecorderOptions): void {
  const { meter, logger } = options;
  if (
    meter !== undefined &&
    (typeof meter?.createCounter !== "function" ||
      typeof meter.createHistogram !== "function" ||
      typeof meter.createObservableGauge !== "function")
  ) {
    throw new TelemetryError(
      "INVALID_OPTIONS",
      invalidOptionMessage("RecorderOptions", "meter", "an OpenTelemetry Meter", meter),
    );
  }
  if (
    logger !== undefined &&
    (typeof logger?.info !== "function" ||
      typeof logger.warn !== "function" ||
      typeof logger.error !== "function")
  ) {
    throw new TelemetryError(
      "INVALID_OPTIONS",
      invalidOptionMessage(
        "RecorderOptions",
        "logger",
        "an object with info, warn and error functions",
        logger,
      ),
    );
  }
}

/**
 * Creates the recorder that gate, drainer and read-fallback report to: every
 * event becomes catalog metrics with guarded labels (never an id), and the
 * run-level events also become structured log events (and events on the active
 * span) carrying the ids. Gauges read the latest `bufferStats` and
 * `drainLimits` the app feeds on its own interval. No method throws: an error
 * from the meter is reported to the logger as `mollifier.recorder_error`; an
 * error from the logger or the span is ignored.
 *
 * @example
 * ```ts
 * const provider = new MeterProvider({ readers: [reader] });
 * const recorder = createRecorder({ meter: provider.getMeter("mollifier"), logger });
 * const gate = createGate({ recorder, ... });
 * setInterval(async () => recorder.bufferStats(await buffer.stats()), 5_000);
 * ```
 */
export function createRecorder(options: RecorderOptions = {}): MetricsRecorder {
  validateOptions(options);
  const meter = options.meter ?? metrics.getMeter(DEFAULT_METER_NAME);
  const logger = options.logger;
  const { counters, histograms, gauges } = createInstruments(meter);
  const gaugeState: GaugeState = {};
  let closed = false;

  const activeSpan = options.activeSpan ?? (() => trace.getActiveSpan());
  const recordingSpan = (): Span | undefined => {
    try {
      const span = activeSpan();
      return span?.isRecording() ? span : undefined;
    } catch {
      return undefined;
    }
  };

  // Writes one event to the logger and, as a span event, to the active span: the only two places
  // where run, org and env ids go. A logger or span that throws must not break the trigger path,
  // and cannot be asked to report its own failure.
  const log = (level: LogLevel, event: string, fieldsOf: () => LogFields): void => {
    if (closed) return;
    const span = recordingSpan();
    if (logger === undefined && span === undefined) return;
    let fields: LogFields;
    try {
      fields = fieldsOf();
    } catch {
      return;
    }
    try {
      logger?.[level](event, fields);
    } catch {}
    try {
      span?.addEvent(event, spanAttributesOf(fields));
    } catch {}
  };

  // Tags the active span (the trigger's request span, typically) with a per-trigger outcome.
  const annotateSpan = (fieldsOf: () => LogFields): void => {
    const span = recordingSpan();
    if (span === undefined) return;
    try {
      span.setAttributes(spanAttributesOf(fieldsOf()));
    } catch {}
  };

  // Every method runs through this guard: the recorder is called on the trigger hot path and must
  // never throw into it, whatever the meter, the logger or a malformed event does. Methods log
  // before they touch the meter, so a broken meter cannot swallow the event's log line.
  const guarded =
    <E>(method: keyof MollifierRecorder, record: (event: E) => void) =>
    (event: E): void => {
      if (closed) return;
      try {
        record(event);
      } catch (error) {
        log("error", LOG_EVENTS.recorderError, () => ({ method, error: describeError(error) }));
      }
    };

  const callbacks: [ObservableGauge, ObservableCallback][] = Object.entries(GAUGE_SOURCES).map(
    ([key, source]) => {
      const callback: ObservableCallback = (result) => {
        const value = gaugeState[source];
        if (value !== undefined) result.observe(value);
      };
      return [gauges[key as GaugeKey], callback];
    },
  );
  for (const [gauge, callback] of callbacks) gauge.addCallback(callback);

  return {
    decision: guarded("decision", (event) => {
      annotateSpan(() => ({
        gateAction: event.action,
        gateReason: event.reason,
        orgId: event.orgId,
        envId: event.envId,
        runId: event.runId,
      }));
      counters.decisions.add(1, guardLabels("decisions", { action: event.action, reason: event.reason }));
    }),

    buffered: guarded("buffered", (event) => {
      log(event.outcome === "over_capacity" ? "warn" : "info", LOG_EVENTS.buffered, () => ({
        runId: event.runId,
        orgId: event.orgId,
        envId: event.envId,
        taskId: event.taskId,
        outcome: event.outcome,
      }));
      counters.accepts.add(1, guardLabels("accepts", { outcome: event.outcome }));
    }),

    drained: guarded("drained", (event) => {
      log("info", LOG_EVENTS.drained, () => ({
        runId: event.runId,
        orgId: event.orgId,
        envId: event.envId,
        timeInBufferMs: event.timeInBufferMs,
        handlerDurationMs: event.handlerDurationMs,
      }));
      counters.drained.add(1);
      const timeInBufferMs = measurement(event.timeInBufferMs);
      if (timeInBufferMs !== undefined) histograms.timeInBuffer.record(timeInBufferMs);
      const handlerDurationMs = measurement(event.handlerDurationMs);
      if (handlerDurationMs !== undefined) histograms.handlerDuration.record(handlerDurationMs);
    }),

    retried: guarded("retried", (event) => {
      log("warn", LOG_EVENTS.retried, () => ({
        runId: event.runId,
        orgId: event.orgId,
        envId: event.envId,
        attempts: event.attempts,
        delayMs: event.delayMs,
        error: event.error,
      }));
      counters.retries.add(1);
    }),

    failed: guarded("failed", (event) => {
      log("error", LOG_EVENTS.failed, () => ({
        runId: event.runId,
        orgId: event.orgId,
        envId: event.envId,
        kind: event.kind,
        attempts: event.attempts,
        error: event.error,
      }));
      counters.failures.add(1, guardLabels("failures", { kind: event.kind }));
    }),

    reaped: guarded("reaped", (event) => {
      const count = measurement(event.count);
      // A reaper pass that found nothing is the normal case, not an event.
      if (count === undefined || count === 0) return;
      log("warn", LOG_EVENTS.reaped, () => ({ count }));
      counters.leasesReaped.add(count);
    }),

    claim: guarded("claim", (event) => {
      annotateSpan(() => ({ claimOutcome: event.outcome, orgId: event.orgId, envId: event.envId }));
      counters.claims.add(1, guardLabels("claims", { outcome: event.outcome }));
    }),

    degraded: guarded("degraded", (event) => {
      log("warn", LOG_EVENTS.degraded, () => ({
        component: event.component,
        reason: event.reason,
        ...(event.error === undefined ? {} : { error: describeError(event.error) }),
        ...(event.runId === undefined ? {} : { runId: event.runId }),
        ...(event.orgId === undefined ? {} : { orgId: event.orgId }),
        ...(event.envId === undefined ? {} : { envId: event.envId }),
      }));
      counters.degraded.add(1, guardLabels("degraded", { component: event.component, reason: event.reason }));
    }),

    drainLimits: guarded("drainLimits", (event) => {
      gaugeState.ratePerSecond = measurement(event.ratePerSecond);
      gaugeState.concurrency = measurement(event.concurrency);
    }),

    bufferStats: guarded("bufferStats", (event) => {
      gaugeState.depth = measurement(event.depth);
      gaugeState.oldestEntryAgeMs = measurement(event.oldestEntryAgeMs);
      gaugeState.leasesInFlight = measurement(event.leasesInFlight);
    }),

    close() {
      if (closed) return;
      closed = true;
      for (const [gauge, callback] of callbacks) {
        try {
          gauge.removeCallback(callback);
        } catch {
          // Detaching is best effort; the callbacks read nothing once closed.
        }
      }
      for (const source of Object.values(GAUGE_SOURCES)) delete gaugeState[source];
    },
  };
}
