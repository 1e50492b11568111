import { describe, expect, test } from "vitest";
import {
  bufferedEntry,
  fakeBuffer,
  InMemoryRunStore,
  manualTime,
  runRecord,
  testOptions,
} from "./fakes.test-support.js";
import { createReadFallback } from "./read-fallback.js";

const key = { orgId: "org-1", envId: "env-1", taskId: "task-1", idempotencyKey: "key-1" };

describe("findIdempotentRun", () => {
  test("a buffered run holding the key is found through the buffer's index", async () => {
    const time = manualTime();
    const buffer = fakeBuffer({
      lookupIdempotency: async () => ({ outcome: "found", runId: "run-1" }),
      getEntry: async () =>
        bufferedEntry({
          snapshot: { options: { idempotencyKey: "key-1", idempotencyKeyExpiresAt: time.now + 1 } },
        }),
    });
    const readFallback = createReadFallback(testOptions({ buffer }, time));
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run-1", source: "buffer" },
    });
  });

  test("a buffered run whose key has expired answers expired", async () => {
    const time = manualTime();
    const buffer = fakeBuffer({
      lookupIdempotency: async () => ({ outcome: "found", runId: "run-1" }),
      getEntry: async () =>
        bufferedEntry({
          snapshot: { options: { idempotencyKey: "key-1", idempotencyKeyExpiresAt: time.now } },
        }),
    });
    const readFallback = createReadFallback(testOptions({ buffer }, time));
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "expired",
      run: { id: "run-1" },
    });
  });

  test("a run in the database holding the key is found, and answers expired past its expiry", async () => {
    const time = manualTime();
    const runStore = new InMemoryRunStore();
    runStore.insert(
      runRecord({ id: "run-7", idempotencyKey: "key-1", idempotencyKeyExpiresAt: time.now + 10 }),
    );
    const buffer = fakeBuffer({ lookupIdempotency: async () => ({ outcome: "not_found" }) });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }, time));
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run-7" },
    });
    time.now += 10;
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "expired",
      run: { id: "run-7" },
    });
  });

  test("a key without expiry never expires", async () => {
    const time = manualTime();
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-7", idempotencyKey: "key-1" }));
    const buffer = fakeBuffer({ lookupIdempotency: async () => ({ outcome: "not_found" }) });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }, time));
    time.now += 365 * 86_400_000;
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({ outcome: "found" });
  });

  test("the buffer index is read before the database, so a run the drainer moves in between is still found", async () => {
    const runStore = new InMemoryRunStore();
    const order: string[] = [];
    const buffer = fakeBuffer({
      lookupIdempotency: async () => {
        order.push("buffer");
        // Plays the drainer right after the index read: insert, then ack (the index goes).
        runStore.insert(runRecord({ id: "run-1", idempotencyKey: "key-1" }));
        return { outcome: "not_found" };
      },
    });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }));
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({
      outcome: "found",
      run: { id: "run-1" },
    });
    expect(runStore.calls.map((call) => call.method)).toEqual(["findRunByIdempotencyKey"]);
    expect(order).toEqual(["buffer"]);
  });

  test("another env or task with the same key finds nothing", async () => {
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-1", idempotencyKey: "key-1" }));
    const buffer = fakeBuffer({ lookupIdempotency: async () => ({ outcome: "not_found" }) });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }));
    expect(await readFallback.findIdempotentRun({ ...key, envId: "env-2" })).toEqual({
      outcome: "not_found",
    });
    expect(await readFallback.findIdempotentRun({ ...key, taskId: "task-2" })).toEqual({
      outcome: "not_found",
    });
  });

  test("a buffer outage still finds a run in the database, and answers degraded otherwise", async () => {
    const failure = new Error("down");
    const runStore = new InMemoryRunStore();
    const buffer = fakeBuffer({ lookupIdempotency: () => Promise.reject(failure) });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }));
    expect(await readFallback.findIdempotentRun(key)).toEqual({
      outcome: "degraded",
      reason: "redis_error",
      error: failure,
    });
    runStore.insert(runRecord({ id: "run-1", idempotencyKey: "key-1" }));
    expect(await readFallback.findIdempotentRun(key)).toMatchObject({ outcome: "found" });
  });

  test("an empty idempotency key throws before any lookup", async () => {
    const runStore = new InMemoryRunStore();
    const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer(), runStore }));
    await expect(readFallback.findIdempotentRun({ ...key, idempotencyKey: "" })).rejects.toThrow(
      "idempotencyKey must be a non-empty string",
    );
    expect(runStore.calls).toHaveLength(0);
  });
});
