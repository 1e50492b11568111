import { setTimeout as sleep } from "node:timers/promises";
import { metricCatalog } from "@mollifier/telemetry";
import { type RedisServerProcess, startRedisServer } from "@mollifier/testing/servers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { prometheusCatalogue, prometheusSeriesOf } from "../app/observability/prometheus-names";
import { type StartedApp, startApp } from "./started-app";

const KEYS = ["mk_prod_acme_demo", "mk_staging_acme_demo", "mk_prod_globex_demo"];

let redis: RedisServerProcess;
let app: StartedApp;

beforeAll(async () => {
  redis = await startRedisServer();
  // A budget of 3 per window: a small burst trips every env and buffers most of it. A generous gate
  // time budget: this test is about what is exported, not about a loaded machine's latency.
  app = await startApp({
    REDIS_URL: redis.url,
    MOLLIFIER_TRIP_THRESHOLD: "3",
    MOLLIFIER_GATE_TIME_BUDGET_MS: "2000",
  });
});
afterAll(async () => {
  await app?.stop();
  await redis?.dispose();
});

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format's sample lines (comments skipped). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ""] = pair[2] ?? "";
    }
    samples.push({ name: match[1] ?? "", labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<{ contentType: string; samples: Sample[] }> {
  const response = await fetch(`${app.url}/metrics`);
  expect(response.status).toBe(200);
  return {
    contentType: response.headers.get("content-type") ?? "",
    samples: parseSamples(await response.text()),
  };
}

const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);

describe("/metrics on the started app", () => {
  test("after a burst, a scrape shows decisions, accepts, drained, depth, oldest age and dwell, with bounded labels", async () => {
    const sent = [];
    for (let wave = 0; wave < 6; wave++) {
      sent.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            app.api("POST", "/api/v1/tasks/metrics-burst/trigger", {
              key: KEYS[index % KEYS.length],
              body: { payload: { wave, n: index } },
            }),
          ),
        )),
      );
    }
    for (const answer of sent) expect(answer.status).toBe(201);
    const mollified = sent.filter((answer) => answer.body.notice !== undefined).length;
    expect(mollified).toBeGreaterThan(0);

    const name = (key: keyof typeof metricCatalog, index = 0) =>
      prometheusSeriesOf(metricCatalog[key])[index] ?? "";
    // Poll (bounded) until every buffered trigger was drained and the gauges have a snapshot.
    let samples: Sample[] = [];
    let contentType = "";
    for (let attempt = 0; attempt < 200; attempt++) {
      ({ samples, contentType } = await scrape());
      const drained = total(samples, name("drained"));
      if (drained >= mollified && samples.some((sample) => sample.name === name("bufferDepth"))) break;
      await sleep(100);
    }
    expect(contentType).toContain("text/plain");

    expect(total(samples, name("decisions"))).toBe(sent.length);
    expect(total(samples, name("decisions"), { action: "mollify" })).toBe(mollified);
    expect(total(samples, name("accepts"), { outcome: "accepted" })).toBe(mollified);
    expect(total(samples, name("drained"))).toBe(mollified);
    expect(samples.some((sample) => sample.name === name("bufferDepth"))).toBe(true);
    expect(samples.some((sample) => sample.name === name("oldestEntryAge"))).toBe(true);
    expect(total(samples, `${name("timeInBuffer", 0).replace(/_bucket$/, "")}_count`)).toBe(mollified);
    expect(
      samples.some((sample) => sample.name === name("timeInBuffer", 0) && sample.labels.le === "+Inf"),
    ).toBe(true);

    // Bounded labels: every mollifier series is a catalogue series, its label keys are the catalogue's
    // (plus `le` on histogram buckets), and no value is an id.
    const catalogue = prometheusCatalogue();
    const mollifierSamples = samples.filter((sample) => sample.name.startsWith("mollifier_"));
    expect(mollifierSamples.length).toBeGreaterThan(0);
    for (const sample of mollifierSamples) {
      const key = catalogue.get(sample.name);
      expect(key, sample.name).toBeDefined();
      if (key === undefined) continue;
      const schema: Readonly<Record<string, readonly string[]>> = metricCatalog[key].labels;
      for (const [label, value] of Object.entries(sample.labels)) {
        if (label === "le" && sample.name.endsWith("_bucket")) continue;
        expect(Object.keys(schema), `${sample.name} label ${label}`).toContain(label);
        expect([...(schema[label] ?? []), "other"], `${sample.name}{${label}="${value}"}`).toContain(value);
        expect(value).not.toMatch(/^(org_|env_|run_|mk_)/);
      }
    }
  });

  test("/metrics answers only GET; the API and dashboard routes are unchanged", async () => {
    expect((await fetch(`${app.url}/metrics`, { method: "POST" })).status).not.toBe(200);
    expect((await app.api("GET", "/api/v9/nothing")).status).toBe(404);
  });
});
