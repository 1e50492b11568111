import type { DegradedEvent } from "@mollifier/telemetry";
import { noopRecorder } from "@mollifier/telemetry";
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
import type { BufferCancelResult } from "./read-fallback-buffer.js";
import { ReadFallbackError } from "./read-fallback-error.js";

const ref = { orgId: "org-1", envId: "env-1", runId: "run-1" };
const key = { orgId: "org-1", envId: "env-1", taskId: "task-1", idempotencyKey: "key-1" };

/** A buffer.cancel that answers each reply in turn, then repeats the last. */
function scriptedCancel(...replies: BufferCancelResult[]) {
  let calls = 0;
  return {
    calls: () => calls,
    cancel: async () => {
      const reply = replies[Math.min(calls++, replies.length - 1)];
      if (reply === undefined) throw new Error("no scripted reply");
      return reply;
    },
  };
}

describe("mutations on a buffered run", () => {
  test("a queued run is canceled in the buffer without touching the database", async () => {
    const runStore = new InMemoryRunStore();
    const cancel = scriptedCancel({ outcome: "canceled", at: 5 });
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ cancel: cancel.cancel }), runStore }),
    );
    expect(await readFallback.cancelRun({ ...ref, reason: "user" })).toEqual({
      outcome: "canceled",
      at: 5,
      source: "buffer",
    });
    expect(runStore.calls).toHaveLength(0);
  });

  test("a leased run is waited for by polling Redis, then canceled in the database once its entry is gone", async () => {
    const time = manualTime();
    const runStore = new InMemoryRunStore();
    const cancel = scriptedCancel({ outcome: "busy" }, { outcome: "busy" }, { outcome: "not_found" });
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({
            cancel: async () => {
              const reply = await cancel.cancel();
              // The drainer inserts before it acks: the row exists once the entry is gone.
              if (reply.outcome === "not_found")
                runStore.insert(runRecord({ id: "run-1", status: "PENDING" }));
              return reply;
            },
          }),
          runStore,
          leasePolling: { initialDelayMs: 10, jitter: 0 },
        },
        time,
      ),
    );
    expect(await readFallback.cancelRun(ref)).toEqual({
      outcome: "canceled",
      at: time.now,
      source: "database",
    });
    expect(time.sleeps).toEqual([10, 20]);
    // Only one database call: the wait polls Redis, never the database.
    expect(runStore.calls.map((call) => call.method)).toEqual(["cancelRun"]);
    expect(runStore.runs.get("run-1")).toMatchObject({ status: "CANCELED" });
  });

  test("a run leased past leasePolling.maxWaitMs answers timed_out and changes nothing", async () => {
    const time = manualTime();
    const runStore = new InMemoryRunStore();
    const cancel = scriptedCancel({ outcome: "busy" });
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({ cancel: cancel.cancel }),
          runStore,
          leasePolling: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0, maxWaitMs: 1_000 },
        },
        time,
      ),
    );
    expect(await readFallback.cancelRun(ref)).toEqual({ outcome: "timed_out", waitedMs: 1_000 });
    expect(time.sleeps).toEqual([100, 200, 400, 300]);
    expect(cancel.calls()).toBe(5);
    expect(runStore.calls).toHaveLength(0);
  });

  test("a run in neither place is not_found", async () => {
    const cancel = scriptedCancel({ outcome: "not_found" });
    const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer({ cancel: cancel.cancel }) }));
    expect(await readFallback.cancelRun(ref)).toEqual({ outcome: "not_found" });
  });

  test("a Redis error still cancels a run the database has, and answers degraded for one it does not", async () => {
    const degraded: DegradedEvent[] = [];
    const runStore = new InMemoryRunStore();
    const failure = new Error("down");
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({ cancel: () => Promise.reject(failure) }),
        runStore,
        recorder: { ...noopRecorder, degraded: (event) => degraded.push(event) },
      }),
    );
    expect(await readFallback.cancelRun(ref)).toEqual({
      outcome: "degraded",
      reason: "redis_error",
      error: failure,
    });
    runStore.insert(runRecord({ id: "run-1" }));
    expect(await readFallback.cancelRun(ref)).toMatchObject({ outcome: "canceled", source: "database" });
    expect(degraded).toMatchObject([
      { component: "read_fallback", reason: "redis_error", runId: "run-1" },
      { component: "read_fallback", reason: "redis_error", runId: "run-1" },
    ]);
  });

  test("tags are validated and deduplicated before the buffer sees them", async () => {
    const seen: string[][] = [];
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          addTags: async (request) => {
            seen.push(request.tags);
            return { outcome: "updated", tags: request.tags };
          },
        }),
      }),
    );
    expect(await readFallback.addTags({ ...ref, tags: ["a", "a", "b"] })).toEqual({
      outcome: "updated",
      tags: ["a", "b"],
      source: "buffer",
    });
    await expect(readFallback.addTags({ ...ref, tags: [] })).rejects.toThrow("tags must be");
    await expect(readFallback.addTags({ ...ref, tags: ["ok", ""] })).rejects.toThrow("tags[1]");
    expect(seen).toEqual([["a", "b"]]);
  });

  test("reschedule moves a DELAYED buffered run and refuses a run that is not delayed", async () => {
    const time = manualTime();
    let entry = bufferedEntry({ snapshot: { options: { delayUntil: time.now + 1_000 } } });
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({
            getEntry: async () => entry,
            setDelay: async (request) => ({ outcome: "updated", delayUntil: request.delayUntil }),
          }),
        },
        time,
      ),
    );
    expect(await readFallback.rescheduleRun({ ...ref, delayUntil: time.now + 5_000 })).toEqual({
      outcome: "updated",
      delayUntil: time.now + 5_000,
      source: "buffer",
    });
    entry = bufferedEntry();
    expect(await readFallback.rescheduleRun({ ...ref, delayUntil: time.now + 5_000 })).toEqual({
      outcome: "not_delayed",
      status: "QUEUED",
      source: "buffer",
    });
    await expect(readFallback.rescheduleRun({ ...ref, delayUntil: Number.NaN })).rejects.toThrow(
      "delayUntil must be a finite",
    );
  });

  test("resetting a key clears it in the buffer and the database and drops a resolved claim", async () => {
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-old", idempotencyKey: "key-1" }));
    const claimResets: object[] = [];
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          resetIdempotency: async () => ({ outcome: "reset", runId: "run-1" }),
          resetResolvedClaim: async (request) => {
            claimResets.push(request);
            return { outcome: "reset" };
          },
        }),
        runStore,
      }),
    );
    expect(await readFallback.resetIdempotencyKey(key)).toEqual({
      outcome: "reset",
      runIds: ["run-1", "run-old"],
    });
    expect(runStore.runs.get("run-old")?.idempotencyKey).toBeUndefined();
    expect(claimResets).toEqual([key]);
  });

  test("resetting a key nobody holds is not_found", async () => {
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          resetIdempotency: async () => ({ outcome: "not_found" }),
          resetResolvedClaim: async () => ({ outcome: "not_resolved" }),
        }),
      }),
    );
    expect(await readFallback.resetIdempotencyKey(key)).toEqual({ outcome: "not_found" });
  });

  test("an undefined run id throws INVALID_INPUT for every mutation before any I/O", async () => {
    const runStore = new InMemoryRunStore();
    const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer(), runStore }));
    const bad = { ...ref, runId: undefined as unknown as string };
    const attempts = [
      readFallback.cancelRun(bad),
      readFallback.addTags({ ...bad, tags: ["a"] }),
      readFallback.updateMetadata({ ...bad, update: () => "{}" }),
      readFallback.rescheduleRun({ ...bad, delayUntil: 1 }),
    ];
    for (const attempt of attempts) {
      const error = await attempt.catch((caught: unknown) => caught);
      expect(ReadFallbackError.isInstance(error) && error.code).toBe("INVALID_INPUT");
    }
    expect(runStore.calls).toHaveLength(0);
  });
});
