import { describe, expect, test } from "vitest";
import {
  DEFAULT_TIME_BUDGET_MS,
  DEFAULT_TRIP_BUCKETS,
  DEFAULT_TRIP_HOLD_MS,
  DEFAULT_TRIP_THRESHOLD,
  DEFAULT_TRIP_WINDOW_MS,
  parseGateConfig,
  parseGateConfigFromEnv,
} from "./gate-config.js";
import { GateError } from "./gate-error.js";

function errorOf(run: () => unknown): GateError {
  try {
    run();
  } catch (error) {
    if (GateError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a GateError");
}

describe("parseGateConfig", () => {
  test("fills every default, with the gate off", () => {
    expect(parseGateConfig()).toEqual({
      enabled: false,
      shadowMode: false,
      batchSupport: false,
      timeBudgetMs: DEFAULT_TIME_BUDGET_MS,
      tripThreshold: DEFAULT_TRIP_THRESHOLD,
      tripWindowMs: DEFAULT_TRIP_WINDOW_MS,
      tripHoldMs: DEFAULT_TRIP_HOLD_MS,
      tripBuckets: DEFAULT_TRIP_BUCKETS,
    });
  });

  test("names every invalid option and rejects unknown ones", () => {
    const error = errorOf(() => parseGateConfig({ tripThreshold: 0, timeBudgetMs: 1.5 }));
    expect(error.code).toBe("INVALID_OPTIONS");
    expect(error.message).toContain("GateConfig.tripThreshold must be a positive integer, got 0");
    expect(error.message).toContain("GateConfig.timeBudgetMs must be a positive integer, got 1.5");
    // @ts-expect-error an unknown option
    expect(errorOf(() => parseGateConfig({ tripTreshold: 5 })).message).toContain(
      "unknown option(s) tripTreshold",
    );
  });
});

describe("parseGateConfigFromEnv", () => {
  test("reads every variable", () => {
    expect(
      parseGateConfigFromEnv({
        MOLLIFIER_ENABLED: "1",
        MOLLIFIER_SHADOW_MODE: "true",
        MOLLIFIER_BATCH_SUPPORT: "on",
        MOLLIFIER_GATE_TIME_BUDGET_MS: "10",
        MOLLIFIER_TRIP_THRESHOLD: "500",
        MOLLIFIER_TRIP_WINDOW_MS: "2000",
        MOLLIFIER_TRIP_HOLD_MS: "0",
        MOLLIFIER_TRIP_BUCKETS: "50",
        MOLLIFIER_GLOBAL_THRESHOLD: "5000",
      }),
    ).toEqual({
      enabled: true,
      shadowMode: true,
      batchSupport: true,
      timeBudgetMs: 10,
      tripThreshold: 500,
      tripWindowMs: 2_000,
      tripHoldMs: 0,
      tripBuckets: 50,
      globalThreshold: 5_000,
    });
  });

  test("unset and empty variables take their defaults; other variables are ignored", () => {
    expect(
      parseGateConfigFromEnv({ MOLLIFIER_ENABLED: "", PATH: "/usr/bin", MOLLIFIER_TRIP_THRESHOLD: "  " }),
    ).toEqual(parseGateConfig());
  });

  test("an invalid value is reported with the variable's name and the text it had", () => {
    expect(errorOf(() => parseGateConfigFromEnv({ MOLLIFIER_TRIP_THRESHOLD: "abc" })).message).toBe(
      'MOLLIFIER_TRIP_THRESHOLD must be a positive integer, got "abc"',
    );
    expect(errorOf(() => parseGateConfigFromEnv({ MOLLIFIER_TRIP_THRESHOLD: "-3" })).message).toContain(
      "MOLLIFIER_TRIP_THRESHOLD must be a positive integer",
    );
    expect(errorOf(() => parseGateConfigFromEnv({ MOLLIFIER_ENABLED: "maybe" })).message).toBe(
      'MOLLIFIER_ENABLED must be a boolean (true/false, 1/0, yes/no, on/off), got "maybe"',
    );
  });

  test("every invalid variable is named in one error", () => {
    const message = errorOf(() =>
      parseGateConfigFromEnv({ MOLLIFIER_TRIP_WINDOW_MS: "0", MOLLIFIER_TRIP_BUCKETS: "5000" }),
    ).message;
    expect(message).toContain("MOLLIFIER_TRIP_WINDOW_MS must be a positive integer");
    expect(message).toContain("MOLLIFIER_TRIP_BUCKETS must be a positive integer up to 1000");
  });
});
