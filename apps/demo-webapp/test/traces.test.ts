import { setTimeout as sleep } from "node:timers/promises";
import { metricCatalog } from "@mollifier/telemetry";
import {
  type PostgresServerProcess,
  type RedisServerProcess,
  startPostgresServer,
  startRedisServer,
} from "@mollifier/testing/servers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BATCH_ITEMS_ROUTE, BATCH_ROUTE } from "../app/api/trigger-routes";
import { prometheusSeriesOf } from "../app/observability/prometheus-names";
import { BATCH_ITEM_SPAN, TRACE_ATTRIBUTES, TRIGGER_ROUTE } from "../app/observability/trigger-tracing";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver";
import { type StartedApp, startApp } from "./started-app";
import { type StartedDrainer, startDrainer } from "./started-drainer";

const GLOBEX_PROD_KEY = "mk_prod_globex_demo";
const INITECH_PROD_KEY = "mk_prod_initech_demo";
const INITECH_STAGING_KEY = "mk_staging_initech_demo";
const POLL_LIMIT_MS = 30_000;
const INTERNAL = 1;
const SERVER = 2;
const CONSUMER = 5;

// Two direct triggers per env fit the budget; the third trips the env and is buffered (and, sticky
// while backlogged, so is every later one until the env drains).
const GATE = {
  MOLLIFIER_TRIP_THRESHOLD: "2",
  MOLLIFIER_TRIP_WINDOW_MS: "600000",
  MOLLIFIER_TRIP_HOLD_MS: "600000",
  // Batch items go through the gate too (their own test below).
  MOLLIFIER_BATCH_SUPPORT: "true",
  // Spans leave in batches every 100 ms, not every 5 s.
  OTEL_BSP_SCHEDULE_DELAY: "100",
};

/** Polls `find` until it answers, within a bound; the message says what never came. */
async function eventually<T>(what: string, find: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${POLL_LIMIT_MS} ms`);
    await sleep(50);
  }
}

/** Triggers on acme prod until one answer is buffered (a queue position); that run's id. */
async function triggerUntilBuffered(app: StartedApp): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const answer = await app.api("POST", "/api/v1/tasks/traced-task/trigger", {
      body: { payload: { attempt } },
    });
    expect(answer.status).toBe(201);
    if (answer.body.queuePosition !== undefined) return answer.body.id;
  }
  throw new Error(`no trigger was buffered:\n${app.output()}`);
}

const spanOfRun = (spans: ReceivedSpan[], kind: number, runId: string) =>
  spans.find((span) => span.kind === kind && span.attributes[TRACE_ATTRIBUTES.runId] === runId);

/** The request span, the drain span of `runId` and the check that the second links to the first. */
async function expectDrainLinkedToRequest(receiver: OtlpReceiver, runId: string, drainService: string) {
  const request = await eventually(`the request span of ${runId}`, () =>
    spanOfRun(receiver.spans(), SERVER, runId),
  );
  expect(request).toMatchObject({
    name: `POST ${TRIGGER_ROUTE}`,
    attributes: {
      "http.route": TRIGGER_ROUTE,
      "http.response.status_code": 201,
      [TRACE_ATTRIBUTES.envId]: "env_acme_prod",
      [TRACE_ATTRIBUTES.taskId]: "traced-task",
      [TRACE_ATTRIBUTES.gateAction]: "mollify",
      [TRACE_ATTRIBUTES.destination]: "buffer",
    },
  });
  const drain = await eventually(`the drain span of ${runId}`, () =>
    spanOfRun(receiver.spans(), CONSUMER, runId),
  );
  expect(drain.service).toBe(drainService);
  expect(drain.name).toBe("drain traced-task");
  // A new trace, linked to the request span: the buffered run outlived its request.
  expect(drain.traceId).not.toBe(request.traceId);
  expect(drain.parentSpanId).toBeUndefined();
  expect(drain.links).toEqual([{ traceId: request.traceId, spanId: request.spanId }]);
  expect(drain.attributes[TRACE_ATTRIBUTES.envId]).toBe("env_acme_prod");
}

/** The `count` item spans under a batch request's span, and the one that names a run. */
async function itemSpans(receiver: OtlpReceiver, request: ReceivedSpan, count: number) {
  const items = await eventually(`the ${count} item spans`, () => {
    const children = receiver
      .spans()
      .filter((span) => span.kind === INTERNAL && span.parentSpanId === request.spanId);
    return children.length === count ? children : undefined;
  });
  const itemOf = (runId: string) => {
    const item = items.find((span) => span.attributes[TRACE_ATTRIBUTES.runId] === runId);
    if (item === undefined) throw new Error(`no item span names ${runId}`);
    return item;
  };
  return { items, itemOf };
}

describe("a trace per trigger, with the in-process drainer", () => {
  let redis: RedisServerProcess;
  let receiver: OtlpReceiver;
  let app: StartedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    receiver = await startOtlpReceiver();
    app = await startApp({ REDIS_URL: redis.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, ...GATE });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    await redis?.dispose();
  });

  test("a buffered run's drain span links to its request span and carries the run id", async () => {
    const runId = await triggerUntilBuffered(app);
    await expectDrainLinkedToRequest(receiver, runId, "mollifier-demo");
  });

  test("a direct write is a child span of its request span, in the request's trace", async () => {
    const answer = await app.api("POST", "/api/v1/tasks/direct-task/trigger", {
      key: GLOBEX_PROD_KEY,
      body: { payload: {} },
    });
    expect(answer.status).toBe(201);
    const runId: string = answer.body.id;
    const request = await eventually(`the request span of ${runId}`, () =>
      spanOfRun(receiver.spans(), SERVER, runId),
    );
    expect(request.attributes[TRACE_ATTRIBUTES.destination]).toBe("database");
    expect(request.attributes[TRACE_ATTRIBUTES.gateAction]).toBe("pass_through");
    const write = await eventually("the database write span", () =>
      receiver.spans().find((span) => span.parentSpanId === request.spanId),
    );
    expect(write).toMatchObject({ name: "database write", traceId: request.traceId });
    // Written in the request, never drained: no drain span names it.
    expect(spanOfRun(receiver.spans(), CONSUMER, runId)).toBeUndefined();
  });

  test("a batch request's span holds a span per item; a buffered item's drain links to its item's span", async () => {
    const answer = await app.api("POST", "/api/v1/tasks/batch-task/batch", {
      key: INITECH_PROD_KEY,
      body: { items: [0, 1, 2, 3].map((item) => ({ payload: { item } })) },
    });
    expect(answer.status).toBe(201);
    const runIds: string[] = answer.body.runs.map((run: { id: string }) => run.id);
    const request = await eventually("the batch request span", () =>
      receiver.spans().find((span) => span.kind === SERVER && span.name === `POST ${BATCH_ROUTE}`),
    );
    expect(request.attributes).toMatchObject({ "http.route": BATCH_ROUTE, "http.response.status_code": 201 });
    const { items, itemOf } = await itemSpans(receiver, request, 4);
    for (const [index, runId] of runIds.entries()) {
      expect(itemOf(runId)).toMatchObject({
        name: BATCH_ITEM_SPAN,
        traceId: request.traceId,
        attributes: {
          [TRACE_ATTRIBUTES.batchIndex]: index,
          [TRACE_ATTRIBUTES.envId]: "env_initech_prod",
          [TRACE_ATTRIBUTES.taskId]: "batch-task",
        },
      });
    }
    // Two items fit the env's budget and are written in the request, under their item's span;
    // the third trips the env, and the rest are buffered and drained with a link to their item.
    const destinations = runIds.map((runId) => itemOf(runId).attributes[TRACE_ATTRIBUTES.destination]);
    expect(destinations).toEqual(["database", "database", "buffer", "buffer"]);
    const [firstItem = request] = items.filter((span) => span.attributes[TRACE_ATTRIBUTES.batchIndex] === 0);
    await eventually("the first item's database write span", () =>
      receiver
        .spans()
        .find((span) => span.parentSpanId === firstItem.spanId && span.name === "database write"),
    );
    for (const runId of runIds.slice(2)) {
      const drain = await eventually(`the drain span of ${runId}`, () =>
        spanOfRun(receiver.spans(), CONSUMER, runId),
      );
      expect(drain.links).toEqual([{ traceId: request.traceId, spanId: itemOf(runId).spanId }]);
    }
  });

  test("the SDK's two-step batch: the item stream's span holds a span per item, and a buffered item's drain links to it", async () => {
    const created = await app.api("POST", "/api/v3/batches", {
      key: INITECH_STAGING_KEY,
      body: { runCount: 3 },
    });
    expect(created.status).toBe(201);
    const batchId: string = created.body.id;
    const lines = [0, 1, 2].map((index) =>
      JSON.stringify({ index, task: "sdk-batch-task", payload: { index } }),
    );
    const streamed = await app.api("POST", `/api/v3/batches/${batchId}/items`, {
      key: INITECH_STAGING_KEY,
      rawBody: lines.join("\n"),
      headers: { "content-type": "application/x-ndjson" },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.body).toMatchObject({ itemsAccepted: 3, sealed: true });
    const retrieved = await app.api("GET", `/api/v2/batches/${batchId}`, { key: INITECH_STAGING_KEY });
    const runIds: string[] = retrieved.body.runs;
    expect(runIds).toHaveLength(3);

    const request = await eventually("the item stream's request span", () =>
      receiver.spans().find((span) => span.kind === SERVER && span.name === `POST ${BATCH_ITEMS_ROUTE}`),
    );
    expect(request.attributes).toMatchObject({
      "http.route": BATCH_ITEMS_ROUTE,
      "http.response.status_code": 200,
    });
    const { itemOf } = await itemSpans(receiver, request, 3);
    for (const [index, runId] of runIds.entries()) {
      expect(itemOf(runId)).toMatchObject({
        name: BATCH_ITEM_SPAN,
        traceId: request.traceId,
        attributes: {
          [TRACE_ATTRIBUTES.batchIndex]: index,
          [TRACE_ATTRIBUTES.envId]: "env_initech_staging",
          [TRACE_ATTRIBUTES.taskId]: "sdk-batch-task",
        },
      });
    }
    // Two items fit the env's budget; the third trips it and is buffered, then drained.
    const destinations = runIds.map((runId) => itemOf(runId).attributes[TRACE_ATTRIBUTES.destination]);
    expect(destinations).toEqual(["database", "database", "buffer"]);
    const buffered = runIds[2] ?? "";
    const drain = await eventually(`the drain span of ${buffered}`, () =>
      spanOfRun(receiver.spans(), CONSUMER, buffered),
    );
    expect(drain.links).toEqual([{ traceId: request.traceId, spanId: itemOf(buffered).spanId }]);
  });

  test("a caller's traceparent makes the request span its child", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const parentId = "b7ad6b7169203331";
    const answer = await app.api("POST", "/api/v1/tasks/direct-task/trigger", {
      key: GLOBEX_PROD_KEY,
      body: { payload: {} },
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    const request = await eventually("the request span", () =>
      spanOfRun(receiver.spans(), SERVER, answer.body.id),
    );
    expect(request).toMatchObject({ traceId, parentSpanId: parentId });
  });
});

describe("the separate drainer process", () => {
  let redis: RedisServerProcess;
  let postgres: PostgresServerProcess;
  let receiver: OtlpReceiver;
  let app: StartedApp;
  let drainer: StartedDrainer;

  beforeAll(async () => {
    [redis, postgres, receiver] = await Promise.all([
      startRedisServer(),
      startPostgresServer(),
      startOtlpReceiver(),
    ]);
    const shared = {
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: "200",
      ...GATE,
    };
    app = await startApp({ ...shared, MOLLIFIER_DRAINER: "separate" });
    drainer = await startDrainer({ ...shared, MOLLIFIER_DRAINER_METRICS_PORT: "0" });
  });
  afterAll(async () => {
    await drainer?.stop();
    await app?.stop();
    await receiver?.close();
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  test("exports its drain spans, linked to the app's request spans, and pushes its metrics over OTLP", async () => {
    const runId = await triggerUntilBuffered(app);
    await expectDrainLinkedToRequest(receiver, runId, "mollifier-demo-drainer");
    await eventually("the drainer's OTLP metrics", () =>
      receiver.metricServices().find((service) => service === "mollifier-demo-drainer"),
    );
  });

  test("serves a Prometheus scrape on its own port with the drain's series", async () => {
    await triggerUntilBuffered(app);
    const [drained = "", timeInBuffer = ""] = [
      prometheusSeriesOf(metricCatalog.drained)[0],
      prometheusSeriesOf(metricCatalog.timeInBuffer)[0],
    ];
    let last = "";
    const counted = (text: string) =>
      text
        .split("\n")
        .filter((line) => line.startsWith(`${drained}{`) || line.startsWith(`${drained} `))
        .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
    await eventually("a scrape counting drained runs", async () => {
      const response = await fetch(drainer.metricsUrl);
      expect(response.status).toBe(200);
      last = await response.text();
      return counted(last) > 0 ? last : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; the last scrape:\n${last}\n${drainer.output()}`);
    });
    expect(last).toContain(`${timeInBuffer}{`);
    expect((await fetch(drainer.metricsUrl.replace(/\/metrics$/, "/"))).status).toBe(404);
  });
});
