import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { metricCatalog } from "@mollifier/telemetry";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { prometheusCatalogue } from "../app/observability/prometheus-names";

const GRAFANA = resolve(import.meta.dirname, "../grafana");
const catalogue = prometheusCatalogue();

interface Query {
  readonly where: string;
  readonly expr: string;
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readFileSync(resolve(GRAFANA, "mollifier.json"), "utf8")) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })),
  );
}

function alertQueries(): Query[] {
  const rules = parse(readFileSync(resolve(GRAFANA, "alerts.yaml"), "utf8")) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
  );
}

/** The label keys and values the metrics an expression names may carry (`le` on histogram buckets). */
function labelsOf(metricNames: readonly string[]): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const name of metricNames) {
    const key = catalogue.get(name);
    if (key === undefined) continue;
    const schema: Readonly<Record<string, readonly string[]>> = metricCatalog[key].labels;
    for (const [label, values] of Object.entries(schema)) {
      labels.set(label, new Set([...(labels.get(label) ?? []), ...values, "other"]));
    }
    if (name.endsWith("_bucket")) labels.set("le", new Set());
  }
  return labels;
}

function checkQuery({ where, expr }: Query): void {
  const metricNames = [...expr.matchAll(/\bmollifier_[a-z0-9_]+\b/g)].map((match) => match[0]);
  expect(metricNames.length, `${where} names no Mollifier metric: ${expr}`).toBeGreaterThan(0);
  for (const name of metricNames)
    expect(catalogue.has(name), `${where}: ${name} is not in the catalogue`).toBe(true);
  const labels = labelsOf(metricNames);
  for (const [, list] of expr.matchAll(/\bby \(([^)]*)\)/g)) {
    for (const label of (list ?? "").split(",").map((part) => part.trim())) {
      expect(labels.has(label), `${where}: grouping by ${label}, which ${metricNames.join(", ")} lack`).toBe(
        true,
      );
    }
  }
  for (const [, label, , value] of expr.matchAll(/\b([a-z_]+)(=~|!=|=)"([^"]*)"/g)) {
    const allowed = labels.get(label ?? "");
    expect(allowed, `${where}: matcher on ${label}, which ${metricNames.join(", ")} lack`).toBeDefined();
    for (const one of (value ?? "").split("|")) {
      expect([...(allowed ?? [])], `${where}: ${label}="${one}" is never recorded`).toContain(one);
    }
  }
}

describe("grafana/ dashboard and alert rules", () => {
  test("every dashboard query names catalogue metrics (as Prometheus names them) with their labels", () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) checkQuery(query);
  });

  test("every alert rule's query names catalogue metrics with their labels", () => {
    const queries = alertQueries();
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) checkQuery(query);
  });

  test("together they cover depth, oldest age, dwell, degraded, drain against its cap and failures", () => {
    const text = [...dashboardQueries(), ...alertQueries()].map((query) => query.expr).join("\n");
    for (const name of [
      "mollifier_buffer_depth",
      "mollifier_buffer_oldest_entry_age",
      "mollifier_buffer_time_in_buffer_bucket",
      "mollifier_gate_decisions_total",
      "mollifier_degraded_total",
      "mollifier_drainer_drained_total",
      "mollifier_drainer_rate_limit",
      "mollifier_drainer_failures_total",
    ]) {
      expect(text).toContain(name);
    }
  });
});
