import { type RedisServerProcess, startRedisServer } from "@mollifier/testing/servers";
import { ApiClient } from "@trigger.dev/core/v3";
import { batch, configure, idempotencyKeys, runs, tasks } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ACME_PROD_KEY, type StartedApp, startApp } from "./started-app";

/**
 * The official trigger.dev SDK against the started demo, every call twice:
 * on an app whose env is under budget (runs go to the database) and on one
 * whose env is tripped with no drainer (runs stay in the buffer). The two
 * answers of each call may differ only in ids and times.
 */

interface Stack {
  readonly redis: RedisServerProcess;
  readonly app: StartedApp;
}

const COMMON = {
  // No drainer in either app: the buffered app's runs stay in the buffer.
  MOLLIFIER_DRAINER: "separate",
  MOLLIFIER_BATCH_SUPPORT: "true",
  MOLLIFIER_TRIP_HOLD_MS: "600000",
  // A loaded test machine stalls far longer than the gate's 25 ms budget allows; a decision that
  // ran out of time fails open to the database, and the buffered app's run would land there.
  MOLLIFIER_GATE_TIME_BUDGET_MS: "2000",
};

async function stack(environment: Record<string, string>): Promise<Stack> {
  const redis = await startRedisServer();
  const app = await startApp({ REDIS_URL: redis.url, ...COMMON, ...environment });
  // Two triggers of another task: enough to trip a budget of 1 (the second is buffered, and an
  // env with buffered runs keeps buffering), and the same history for the app under budget.
  for (let index = 0; index < 2; index++) {
    const answer = await app.api("POST", "/api/v1/tasks/warm-up/trigger", { body: {} });
    expect(answer.status).toBe(201);
  }
  return { redis, app };
}

let direct: Stack;
let buffered: Stack;

beforeAll(async () => {
  [direct, buffered] = await Promise.all([
    stack({ MOLLIFIER_TRIP_THRESHOLD: "100000" }),
    stack({ MOLLIFIER_TRIP_THRESHOLD: "1" }),
  ]);
});
afterAll(async () => {
  for (const { app, redis } of [direct, buffered]) {
    await app?.stop();
    await redis?.dispose();
  }
});

type Answers = Array<[string, unknown]>;

/** Every SDK call of the suite against `url`, with its answer; the run ids it made, in order. */
async function runScenario(url: string): Promise<{ answers: Answers; runIds: string[] }> {
  configure({ baseURL: url, accessToken: ACME_PROD_KEY });
  const client = new ApiClient(url, ACME_PROD_KEY);
  const answers: Answers = [];
  const record = <T>(label: string, value: T): T => {
    answers.push([label, value]);
    return value;
  };

  const plain = record(
    "trigger",
    await tasks.trigger("send-email", {
      to: "a@example.com",
      at: new Date(Date.UTC(2025, 0, 2)),
      list: [1, 2],
    }),
  );
  const options = {
    idempotencyKey: "order-42",
    idempotencyKeyTTL: "1h",
    tags: ["email", "vip"],
    metadata: { step: 1 },
    delay: "1h",
  };
  const keyed = record(
    "trigger keyed, delayed, tagged",
    await tasks.trigger("send-email", { n: 2 }, options),
  );
  record("trigger keyed again", await tasks.trigger("send-email", { n: 3 }, options));
  record("retrieve", await runs.retrieve(plain.id));
  record("retrieve keyed", await runs.retrieve(keyed.id));

  record("tags", await client.addTags(plain.id, { tags: ["added"] }));
  record(
    "metadata operations",
    await client.updateRunMetadata(plain.id, {
      operations: [
        { type: "set", key: "progress", value: 0.5 },
        { type: "increment", key: "count", value: 2 },
        { type: "append", key: "log", value: "started" },
        { type: "append", key: "log", value: "halfway" },
        { type: "set", key: "temporary", value: true },
        { type: "delete", key: "temporary" },
      ],
    }),
  );
  record("retrieve after tags and metadata", await runs.retrieve(plain.id));

  const firstPage = await runs.list({ taskIdentifier: "send-email", limit: 1 });
  record("list page 1", { data: firstPage.data, hasNext: firstPage.hasNextPage() });
  const secondPage = await firstPage.getNextPage();
  record("list page 2", { data: secondPage.data, hasNext: secondPage.hasNextPage() });

  record("cancel", await runs.cancel(keyed.id));
  record("poll to the final state", await runs.poll(keyed.id, { pollIntervalMs: 100 }));

  const key = await idempotencyKeys.create("order-42");
  record("idempotency key reset", await idempotencyKeys.reset("send-email", key));
  const again = record("trigger after reset", await tasks.trigger("send-email", { n: 4 }, options));

  const handle = record(
    "batchTrigger",
    await tasks.batchTrigger("send-email", [
      { payload: { i: 0 } },
      { payload: { i: 1 }, options: { tags: ["b"] } },
    ]),
  );
  const retrieved = record("batch retrieve", await batch.retrieve(handle.batchId));
  for (const [index, runId] of retrieved.runs.entries()) {
    record(`retrieve batch item ${index}`, await runs.retrieve(runId));
  }
  return { answers, runIds: [plain.id, keyed.id, again.id, ...retrieved.runs] };
}

const RUN_OR_BATCH_ID = /^(run|batch)_[0-9a-f]{24}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Derived from the run or batch id (a JWT scoped to it). */
const ID_DERIVED_FIELDS = new Set(["publicAccessToken"]);

/**
 * Ids become `<id n>` by order of first appearance and times `<time>`: what may differ between the
 * two apps. Object keys are sorted: JSON objects are unordered, and Postgres' jsonb stores keys in
 * its own order.
 */
function normalise(value: unknown, ids: Map<string, string>): unknown {
  if (value instanceof Date) return "<time>";
  if (typeof value === "string") {
    if (RUN_OR_BATCH_ID.test(value)) {
      if (!ids.has(value)) ids.set(value, `<id ${ids.size}>`);
      return ids.get(value);
    }
    return ISO_TIME.test(value) ? "<time>" : value;
  }
  if (Array.isArray(value)) return value.map((item) => normalise(item, ids));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([name]) => !ID_DERIVED_FIELDS.has(name))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, item]) => [name, normalise(item, ids)]),
    );
  }
  return value;
}

describe("the official @trigger.dev/sdk against the started demo", () => {
  test("every call answers the same for a run in the database and a run in the buffer", async () => {
    const inDatabase = await runScenario(direct.app.url);
    const inBuffer = await runScenario(buffered.app.url);

    // Where the runs are: the database in one app, the buffer in the other.
    for (const [stackUnderTest, result, location] of [
      [direct, inDatabase, "database"],
      [buffered, inBuffer, "buffer"],
    ] as const) {
      for (const runId of result.runIds) {
        const answer = await stackUnderTest.app.api("GET", `/api/v1/runs/${runId}`);
        expect(answer.body.location, `${runId} in ${location}`).toBe(location);
      }
    }
    // The buffer shows only in headers.
    const bufferedRead = await buffered.app.api("GET", `/api/v3/runs/${inBuffer.runIds[0]}`);
    expect(Number(bufferedRead.headers.get("x-mollifier-queue-position"))).toBeGreaterThanOrEqual(0);
    expect(bufferedRead.headers.get("x-mollifier-estimated-start")).toMatch(ISO_TIME);
    const storedRead = await direct.app.api("GET", `/api/v3/runs/${inDatabase.runIds[0]}`);
    expect(storedRead.headers.get("x-mollifier-queue-position")).toBeNull();

    // 0 diffs.
    const databaseIds = new Map<string, string>();
    const bufferIds = new Map<string, string>();
    const diffs: string[] = [];
    for (const [index, [label, answer]] of inDatabase.answers.entries()) {
      const [otherLabel, other] = inBuffer.answers[index] ?? ["missing", undefined];
      const left = JSON.stringify(normalise(answer, databaseIds));
      const right = JSON.stringify(normalise(other, bufferIds));
      if (label !== otherLabel || left !== right)
        diffs.push(`${label}:\n  database ${left}\n  buffer   ${right}`);
    }
    expect(diffs).toEqual([]);
    expect(inBuffer.answers.length).toBe(inDatabase.answers.length);

    // What the SDK read is what was sent: the superjson payload decoded, options applied.
    const answers = new Map(inBuffer.answers);
    expect(answers.get("retrieve")).toMatchObject({
      status: "QUEUED",
      isQueued: true,
      taskIdentifier: "send-email",
      payload: { to: "a@example.com", at: "2025-01-02T00:00:00.000Z", list: [1, 2] },
    });
    expect(answers.get("retrieve keyed")).toMatchObject({
      status: "DELAYED",
      tags: ["email", "vip"],
      metadata: { step: 1 },
    });
    expect(answers.get("trigger keyed again")).toMatchObject({ isCached: true });
    expect(answers.get("metadata operations")).toEqual({
      metadata: { progress: 0.5, count: 2, log: ["started", "halfway"] },
    });
    expect(answers.get("retrieve after tags and metadata")).toMatchObject({ tags: ["added"] });
    expect(answers.get("poll to the final state")).toMatchObject({
      status: "CANCELED",
      isCompleted: true,
      isCancelled: true,
    });
    expect(answers.get("trigger after reset")).toMatchObject({ isCached: false });
    expect(answers.get("batch retrieve")).toMatchObject({ runCount: 2, status: "COMPLETED" });
  });
});
