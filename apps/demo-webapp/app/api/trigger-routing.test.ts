import type { GateDecision } from "@mollifier/gate";
import { describe, expect, test } from "vitest";
import type { MollifierMode } from "../config.server";
import { destinationFor, modeUsesRedis } from "./trigger-routing";

const EVALUATION = {
  outcome: "per_env_rate",
  tripped: true,
  count: 6,
  threshold: 5,
  windowMs: 1_000,
  holdRemainingMs: 500,
  backlog: 0,
} as const;
const MOLLIFY: GateDecision = { action: "mollify", reason: "per_env_rate", evaluation: EVALUATION };
const SHADOW_LOG: GateDecision = { action: "shadow_log", reason: "per_env_rate", evaluation: EVALUATION };
const PASS: GateDecision[] = [
  { action: "pass_through", reason: "kill_switch" },
  { action: "pass_through", reason: "bypass_debounce" },
  { action: "pass_through", reason: "not_enrolled" },
  {
    action: "pass_through",
    reason: "under_budget",
    shadow: false,
    evaluation: { ...EVALUATION, outcome: "under_budget", tripped: false },
  },
  { action: "pass_through", reason: "degraded", cause: "timeout" },
];
const MODES: MollifierMode[] = ["off", "shadow", "dual-write", "mollify"];

describe("mode routing", () => {
  test("only mode off keeps Redis out of the trigger path", () => {
    expect(MODES.filter(modeUsesRedis)).toEqual(["shadow", "dual-write", "mollify"]);
  });

  test("a mollify decision goes to the buffer in mollify mode and to both in dual-write", () => {
    expect(destinationFor("mollify", MOLLIFY)).toBe("buffer");
    expect(destinationFor("dual-write", MOLLIFY)).toBe("database_then_buffer");
    expect(destinationFor("shadow", MOLLIFY)).toBe("database");
  });

  test.each(MODES)("in mode %s every other decision, and no decision, goes to the database", (mode) => {
    for (const decision of [...PASS, SHADOW_LOG, undefined]) {
      expect(destinationFor(mode, decision)).toBe("database");
    }
  });
});
