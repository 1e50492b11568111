import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { idLikeLabelKeys } from "./label-guards.js";
import { OTHER_LABEL_VALUE } from "./label-values.js";
import { metricCatalog, metricDefinitions } from "./metric-catalog.js";

// UCUM: milliseconds, a rate per second, or a dimensionless count with an {annotation}.
const UCUM_UNIT = /^(ms|1\/s|\{[a-z_]+\})$/;

describe("metricCatalog", () => {
  test("every metric name is unique, prefixed mollifier. and made of lower-case snake_case segments", () => {
    const names = metricDefinitions.map((definition) => definition.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^mollifier(\.[a-z][a-z_]*)+$/);
  });

  test("every unit is a UCUM unit and durations are in milliseconds", () => {
    for (const definition of metricDefinitions) {
      expect(definition.unit, definition.name).toMatch(UCUM_UNIT);
      if (definition.kind === "histogram") expect(definition.unit, definition.name).toBe("ms");
    }
  });

  test("no metric has a label key that names a run, env, org or other id", () => {
    for (const definition of metricDefinitions) {
      expect(idLikeLabelKeys(definition.labels), definition.name).toEqual([]);
    }
  });

  test("every label has a small closed value set without duplicates", () => {
    for (const definition of metricDefinitions) {
      for (const [key, values] of Object.entries(definition.labels)) {
        expect(new Set(values).size, `${definition.name} ${key}`).toBe(values.length);
        // Closed lists a dashboard can show whole; `degraded` reasons are the longest (18).
        expect(values.length, `${definition.name} ${key}`).toBeLessThanOrEqual(24);
      }
    }
  });

  test("the series of all metrics together are bounded by a small fixed number", () => {
    const seriesBound = metricDefinitions.reduce(
      (total, definition) =>
        total +
        Object.values(definition.labels).reduce(
          (product, values) => product * (values.length + (values.includes(OTHER_LABEL_VALUE) ? 0 : 1)),
          1,
        ),
      0,
    );
    expect(seriesBound).toBeLessThanOrEqual(200);
  });

  test("only histograms carry bucket boundaries, strictly ascending", () => {
    for (const definition of metricDefinitions) {
      if (definition.kind !== "histogram") {
        expect(definition.buckets, definition.name).toBeUndefined();
        continue;
      }
      const buckets = definition.buckets ?? [];
      expect(buckets.length, definition.name).toBeGreaterThan(0);
      expect(
        [...buckets].sort((a, b) => a - b),
        definition.name,
      ).toEqual(buckets);
      expect(new Set(buckets).size, definition.name).toBe(buckets.length);
    }
  });

  test("decisions are labelled by action and by the gate's fixed reasons", () => {
    expect(metricCatalog.decisions.labels.action).toEqual(["pass_through", "shadow_log", "mollify"]);
    expect(metricCatalog.decisions.labels.reason).toEqual([
      "kill_switch",
      "bypass_debounce",
      "bypass_one_time_token",
      "bypass_trigger_and_wait",
      "bypass_batch",
      "not_enrolled",
      "shadow",
      "under_budget",
      "per_env_rate",
      "global_rate",
      "backlogged",
      "degraded",
      "other",
    ]);
  });
});

describe("README", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

  test("its metric table lists every catalog metric with its kind, unit and suggested alert", () => {
    const metricsSection = readme.split("\n## Metrics\n")[1]?.split("\n## ")[0] ?? "";
    const rows = metricsSection.split("\n").filter((line) => line.startsWith("| `mollifier."));
    expect(rows).toHaveLength(metricDefinitions.length);
    for (const definition of metricDefinitions) {
      const row = rows.find((line) => line.startsWith(`| \`${definition.name}\` |`));
      const cells = row?.split(" | ").map((cell) => cell.trim());
      expect(cells?.[1], definition.name).toBe(definition.kind.replace("_", " "));
      expect(cells?.[2], definition.name).toBe(`\`${definition.unit}\``);
      expect(row, definition.name).toContain(definition.suggestedAlert);
    }
  });
});
