import { describe, expect, test } from "vitest";
import { guardLabelSet, guardLabels, idLikeLabelKeys, isIdLikeLabelKey, labelValue } from "./label-guards.js";

describe("labelValue", () => {
  test("keeps a value from the allowed set", () => {
    expect(labelValue(["a", "b"], "b")).toBe("b");
  });

  test("turns an unknown value, a non-string or a missing value into other", () => {
    expect(labelValue(["a", "b"], "run_01HXYZ")).toBe("other");
    expect(labelValue(["a", "b"], 42)).toBe("other");
    expect(labelValue(["a", "b"], undefined)).toBe("other");
    expect(labelValue(["a", "b"], { toString: () => "a" })).toBe("other");
  });
});

describe("guardLabels", () => {
  test("passes the catalog's keys and allowed values through unchanged", () => {
    expect(guardLabels("decisions", { action: "mollify", reason: "per_env_rate" })).toEqual({
      action: "mollify",
      reason: "per_env_rate",
    });
    expect(guardLabels("degraded", { component: "gate", reason: "timeout" })).toEqual({
      component: "gate",
      reason: "timeout",
    });
  });

  test("records a reason outside the catalog, such as an id, as other", () => {
    expect(guardLabels("decisions", { action: "pass_through", reason: "env_cl9x8a7b6" })).toEqual({
      action: "pass_through",
      reason: "other",
    });
  });

  test("fills a missing label with other so a metric's label keys never vary", () => {
    expect(guardLabels("claims", {})).toEqual({ outcome: "other" });
  });

  test("returns no labels for a metric that has none", () => {
    expect(guardLabels("drained", {})).toEqual({});
  });

  test("drops run, env and org ids passed at run time, whatever their key", () => {
    const smuggled = { action: "mollify", reason: "shadow", runId: "run_1", orgId: "org_1", envId: "env_1" };
    const labels = guardLabels("decisions", smuggled);
    expect(labels).toEqual({ action: "mollify", reason: "shadow" });
    expect(Object.values(labels)).not.toContain("run_1");
  });

  test("refuses, at compile time, an object literal with a key the metric does not allow", () => {
    // @ts-expect-error runId is not a label of mollifier.gate.decisions
    const labels = guardLabels("decisions", { action: "mollify", reason: "shadow", runId: "run_1" });
    expect(labels).toEqual({ action: "mollify", reason: "shadow" });
  });

  test("never reads inherited properties of the input", () => {
    const input = Object.create({ outcome: "accepted" }) as Record<string, unknown>;
    expect(guardLabelSet({ outcome: ["accepted"] }, input)).toEqual({ outcome: "other" });
  });
});

describe("isIdLikeLabelKey", () => {
  test.each([
    "runId",
    "run_id",
    "envId",
    "env",
    "environment",
    "environment_id",
    "orgId",
    "organization_id",
    "org",
    "tenant",
    "taskId",
    "idempotencyKey",
    "owner.uuid",
  ])("treats %s as an id", (key) => {
    expect(isIdLikeLabelKey(key)).toBe(true);
  });

  test.each(["action", "reason", "outcome", "kind", "component"])("accepts %s as a label key", (key) => {
    expect(isIdLikeLabelKey(key)).toBe(false);
  });

  test("lists the id-like keys of a schema", () => {
    expect(idLikeLabelKeys({ reason: ["a"], envId: ["b"] })).toEqual(["envId"]);
  });
});
