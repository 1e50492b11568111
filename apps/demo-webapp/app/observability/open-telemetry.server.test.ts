import { describe, expect, test } from "vitest";
import { DEFAULT_DRAINER_METRICS_PORT, drainerMetricsPortFromEnv } from "./metrics-server";
import {
  DEFAULT_OTLP_TRACES_URL,
  openTelemetryOptionsFromEnv,
  tracesUrlFromEnv,
} from "./open-telemetry.server";

describe("telemetry settings from the environment", () => {
  test("traces are off without an endpoint, and go to <endpoint>/v1/traces or the traces endpoint as given", () => {
    expect(tracesUrlFromEnv({})).toBeUndefined();
    expect(tracesUrlFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toBe(
      "http://collector:4318/v1/traces",
    );
    expect(
      tracesUrlFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://jaeger:4318/v1/traces",
      }),
    ).toBe("http://jaeger:4318/v1/traces");
    expect(tracesUrlFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })).toBe(DEFAULT_OTLP_TRACES_URL);
    expect(
      tracesUrlFromEnv({
        OTEL_TRACES_EXPORTER: "none",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      }),
    ).toBeUndefined();
    expect(() => tracesUrlFromEnv({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(
      'OTEL_TRACES_EXPORTER must be "otlp" or "none" (got "zipkin")',
    );
  });

  test("the OTLP metrics interval is read when it is a positive integer", () => {
    expect(openTelemetryOptionsFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: "200" }).otlpIntervalMs).toBe(200);
    expect(
      openTelemetryOptionsFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: "soon" }).otlpIntervalMs,
    ).toBeUndefined();
  });

  test("the drainer's scrape port defaults to 9464, 'off' turns it off, anything else but a port is refused", () => {
    expect(drainerMetricsPortFromEnv({})).toBe(DEFAULT_DRAINER_METRICS_PORT);
    expect(drainerMetricsPortFromEnv({ MOLLIFIER_DRAINER_METRICS_PORT: "0" })).toBe(0);
    expect(drainerMetricsPortFromEnv({ MOLLIFIER_DRAINER_METRICS_PORT: "9100" })).toBe(9100);
    expect(drainerMetricsPortFromEnv({ MOLLIFIER_DRAINER_METRICS_PORT: "off" })).toBe("off");
    for (const bad of ["-1", "65536", "nine", "9.5"]) {
      expect(() => drainerMetricsPortFromEnv({ MOLLIFIER_DRAINER_METRICS_PORT: bad })).toThrow(
        "MOLLIFIER_DRAINER_METRICS_PORT must be a port number",
      );
    }
  });
});
