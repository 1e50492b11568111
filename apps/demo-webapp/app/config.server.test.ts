import {
  DEFAULT_BATCH_SUPPORT,
  DEFAULT_TIME_BUDGET_MS,
  DEFAULT_TRIP_HOLD_MS,
  DEFAULT_TRIP_THRESHOLD,
  DEFAULT_TRIP_WINDOW_MS,
} from "@mollifier/gate";
import { describe, expect, test } from "vitest";
import { defaultConfig, loadConfig, tripRatePerSecond } from "./config.server";

describe("the gate's settings", () => {
  test("default to the gate package's own defaults", () => {
    expect(loadConfig({}).gate).toMatchObject({
      timeBudgetMs: DEFAULT_TIME_BUDGET_MS,
      tripThreshold: DEFAULT_TRIP_THRESHOLD,
      tripWindowMs: DEFAULT_TRIP_WINDOW_MS,
      tripHoldMs: DEFAULT_TRIP_HOLD_MS,
      batchSupport: DEFAULT_BATCH_SUPPORT,
    });
  });

  test("are read from the gate's variables by the gate's parser", () => {
    const { gate } = loadConfig({
      MOLLIFIER_GATE_TIME_BUDGET_MS: "40",
      MOLLIFIER_TRIP_THRESHOLD: "30",
      MOLLIFIER_TRIP_WINDOW_MS: "2000",
      MOLLIFIER_TRIP_HOLD_MS: "0",
      MOLLIFIER_BATCH_SUPPORT: "yes",
      MOLLIFIER_GLOBAL_THRESHOLD: "500",
    });
    expect(gate).toMatchObject({
      timeBudgetMs: 40,
      tripThreshold: 30,
      tripWindowMs: 2_000,
      tripHoldMs: 0,
      batchSupport: true,
      globalThreshold: 500,
    });
    expect(tripRatePerSecond(gate)).toBe(15);
  });

  test("an invalid gate variable fails at start with the gate's message naming it", () => {
    expect(() => loadConfig({ MOLLIFIER_TRIP_THRESHOLD: "lots" })).toThrow(
      /invalid configuration: MOLLIFIER_TRIP_THRESHOLD must be a positive integer/,
    );
  });

  test("the kill switch and shadow mode follow MOLLIFIER_MODE only, and former variables name their successor", () => {
    expect(() => loadConfig({ MOLLIFIER_ENABLED: "false" })).toThrow(/MOLLIFIER_ENABLED .*MOLLIFIER_MODE/);
    expect(() => loadConfig({ MOLLIFIER_SHADOW_MODE: "true" })).toThrow(/MOLLIFIER_MODE=shadow/);
    expect(() => loadConfig({ MOLLIFIER_ENV_RATE: "20" })).toThrow(/MOLLIFIER_TRIP_THRESHOLD/);
    expect(() => loadConfig({ MOLLIFIER_GATE_TIME_BUDGET_MS: "" })).not.toThrow();
  });

  test("overrides are validated by the gate's parser too", () => {
    expect(defaultConfig({ gate: { tripThreshold: 3 } }).gate.tripThreshold).toBe(3);
    expect(() => defaultConfig({ gate: { tripThreshold: 0 } })).toThrow(/tripThreshold/);
  });
});

describe("the buffer's depth caps", () => {
  test("are unset by default and read as positive integers", () => {
    expect(loadConfig({})).toMatchObject({ maxEnvDepth: undefined, maxOrgDepth: undefined });
    expect(loadConfig({ MOLLIFIER_MAX_ENV_DEPTH: "500", MOLLIFIER_MAX_ORG_DEPTH: "2000" })).toMatchObject({
      maxEnvDepth: 500,
      maxOrgDepth: 2000,
    });
  });

  test("a cap that is not a positive integer fails at start naming its variable", () => {
    expect(() => loadConfig({ MOLLIFIER_MAX_ENV_DEPTH: "0" })).toThrow(/MOLLIFIER_MAX_ENV_DEPTH/);
    expect(() => loadConfig({ MOLLIFIER_MAX_ORG_DEPTH: "many" })).toThrow(/MOLLIFIER_MAX_ORG_DEPTH/);
  });
});
