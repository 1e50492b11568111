import type { Attributes } from "@opentelemetry/api";
import { afterEach, beforeEach, expect, test } from "vitest";
import { createRecorder } from "./create-recorder.js";
import { GATE_ACTIONS, OTHER_LABEL_VALUE } from "./label-values.js";
import { metricCatalog, metricDefinitions } from "./metric-catalog.js";
import type { GateAction } from "./recorder.js";
import { createTestMeter, type TestMeter } from "./test-meter.js";

const DISTINCT_IDS = 1_000;

let testMeter: TestMeter;

beforeEach(() => {
  testMeter = createTestMeter();
});

afterEach(async () => {
  await testMeter.shutdown();
});

const attributeSetsOf = async (): Promise<Map<string, Attributes[]>> =>
  new Map(
    (await testMeter.collect()).map((metric) => [
      metric.descriptor.name,
      metric.dataPoints.map((point) => point.attributes),
    ]),
  );

test("1,000 distinct run, org and env ids and unknown reasons never add a label key or value", async () => {
  const recorder = createRecorder({ meter: testMeter.meter });
  const ids = new Set<string>();
  for (let index = 0; index < DISTINCT_IDS; index += 1) {
    const run = { orgId: `org_${index}`, envId: `env_${index}`, runId: `run_${index}` };
    for (const id of Object.values(run)) ids.add(id);
    const action = GATE_ACTIONS[index % GATE_ACTIONS.length] as GateAction;
    // Ids offered everywhere a caller could slip one in: as extra properties and as label values.
    const smuggled = { ...run, labels: { runId: run.runId }, tenant: run.orgId };
    recorder.decision({ ...smuggled, action, reason: `over_budget_for_${run.envId}` });
    recorder.buffered({ ...smuggled, taskId: `task_${index}`, outcome: "accepted" });
    recorder.drained({ ...smuggled, timeInBufferMs: index, handlerDurationMs: index % 50 });
    recorder.retried({ ...smuggled, attempts: index, delayMs: index, error: `error ${run.runId}` });
    recorder.failed({ ...smuggled, kind: "terminal", attempts: 1, error: run.runId });
    recorder.claim({ ...smuggled, outcome: "claimed" });
    recorder.degraded({ ...smuggled, component: "gate", reason: `redis ${run.orgId} timeout` });
    recorder.bufferStats({ ...smuggled, depth: index, oldestEntryAgeMs: index, leasesInFlight: index });
  }

  const attributeSets = await attributeSetsOf();

  const distinctSets = [...attributeSets.values()].reduce((total, sets) => total + sets.length, 0);
  // decisions: one set per action (every reason became other); accepts, failures, claims and
  // degraded: one set each; drained, retries and the ms histograms and the gauges: the empty set.
  expect(distinctSets).toBe(GATE_ACTIONS.length + 4 + 4 + 3);
  expect(attributeSets.get(metricCatalog.decisions.name)).toEqual(
    GATE_ACTIONS.map((action) => ({ action, reason: OTHER_LABEL_VALUE })),
  );
  expect(attributeSets.get(metricCatalog.degraded.name)).toEqual([
    { component: "gate", reason: OTHER_LABEL_VALUE },
  ]);
  for (const [name, sets] of attributeSets) {
    const definition = metricDefinitions.find((candidate) => candidate.name === name);
    const allowedKeys = Object.keys(definition?.labels ?? {});
    for (const attributes of sets) {
      expect(
        Object.keys(attributes).every((key) => allowedKeys.includes(key)),
        name,
      ).toBe(true);
      expect(
        Object.values(attributes).some((value) => ids.has(String(value))),
        name,
      ).toBe(false);
    }
  }
});

test("an id passed where a label value belongs is recorded as other, in every labelled metric", async () => {
  const recorder = createRecorder({ meter: testMeter.meter });
  const id = "env_cl9x8a7b6c5d4";
  const untyped = (value: string) => value as never;
  recorder.decision({ action: untyped(id), reason: id });
  recorder.buffered({ orgId: id, envId: id, runId: id, taskId: id, outcome: untyped(id) });
  recorder.failed({ orgId: id, envId: id, runId: id, kind: untyped(id), attempts: 1, error: id });
  recorder.claim({ outcome: untyped(id) });
  recorder.degraded({ component: untyped(id), reason: id });

  const attributeSets = await attributeSetsOf();

  expect(Object.fromEntries(attributeSets)).toEqual({
    [metricCatalog.decisions.name]: [{ action: OTHER_LABEL_VALUE, reason: OTHER_LABEL_VALUE }],
    [metricCatalog.accepts.name]: [{ outcome: OTHER_LABEL_VALUE }],
    [metricCatalog.failures.name]: [{ kind: OTHER_LABEL_VALUE }],
    [metricCatalog.claims.name]: [{ outcome: OTHER_LABEL_VALUE }],
    [metricCatalog.degraded.name]: [{ component: OTHER_LABEL_VALUE, reason: OTHER_LABEL_VALUE }],
  });
});
