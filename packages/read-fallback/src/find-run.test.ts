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
import type { BufferedEntry } from "./read-fallback-buffer.js";
import { ReadFallbackError } from "./read-fallback-error.js";

const ref = { orgId: "org-1", envId: "env-1", runId: "run-1" };

function withEntry(entry: BufferedEntry | undefined) {
  const lookups: object[] = [];
  return {
    lookups,
    buffer: fakeBuffer({
      getEntry: async (address) => {
        lookups.push(address);
        return entry;
      },
    }),
  };
}

describe("findRun", () => {
  test("a run in the database is read from there without asking the buffer", async () => {
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-1", status: "EXECUTING", tags: ["a"] }));
    const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer(), runStore }));
    const result = await readFallback.findRun(ref);
    expect(result).toMatchObject({
      outcome: "found",
      run: { id: "run-1", status: "EXECUTING", source: "database" },
    });
  });

  test("a buffered run reads as QUEUED with its tags, metadata, idempotency key, position and ETA", async () => {
    const time = manualTime();
    const { buffer } = withEntry(
      bufferedEntry({
        position: 4,
        snapshot: {
          taskId: "send-email",
          options: { tags: ["a", "b"], idempotencyKey: "key-1", idempotencyKeyExpiresAt: time.now + 1_000 },
        },
        mutations: { tags: ["b", "c"], metadata: '{"step":2}', metadataVersion: 3 },
      }),
    );
    const readFallback = createReadFallback(testOptions({ buffer, estimateDrainRate: () => 10 }, time));
    const result = await readFallback.findRun(ref);
    expect(result).toEqual({
      outcome: "found",
      run: {
        id: "run-1",
        orgId: "org-1",
        envId: "env-1",
        taskId: "send-email",
        status: "QUEUED",
        payload: { hello: "world" },
        tags: ["a", "b", "c"],
        metadata: '{"step":2}',
        metadataVersion: 3,
        idempotencyKey: "key-1",
        idempotencyKeyExpiresAt: time.now + 1_000,
        createdAt: 1_700_000_000_000,
        delayUntil: undefined,
        canceledAt: undefined,
        source: "buffer",
        queuePosition: 4,
        // Five runs ahead of and including this one at 10 per second.
        estimatedStartAt: time.now + 500,
      },
    });
  });

  test("a buffered run whose delay is in the future reads as DELAYED; a reschedule wins over the trigger's delay", async () => {
    const time = manualTime();
    const { buffer } = withEntry(
      bufferedEntry({
        snapshot: { options: { delayUntil: time.now - 1 } },
        mutations: { delayUntil: time.now + 60_000 },
      }),
    );
    const readFallback = createReadFallback(testOptions({ buffer }, time));
    expect(await readFallback.findRun(ref)).toMatchObject({
      run: { status: "DELAYED", delayUntil: time.now + 60_000 },
    });
  });

  test("a buffered run whose delay has passed reads as QUEUED", async () => {
    const time = manualTime();
    const { buffer } = withEntry(bufferedEntry({ snapshot: { options: { delayUntil: time.now } } }));
    const readFallback = createReadFallback(testOptions({ buffer }, time));
    expect(await readFallback.findRun(ref)).toMatchObject({ run: { status: "QUEUED" } });
  });

  test("a canceled buffered run reads as CANCELED with no ETA", async () => {
    const { buffer } = withEntry(
      bufferedEntry({ position: 0, mutations: { canceled: { at: 1_700_000_000_500, reason: "user" } } }),
    );
    const readFallback = createReadFallback(testOptions({ buffer, estimateDrainRate: () => 10 }));
    const result = await readFallback.findRun(ref);
    expect(result).toMatchObject({ run: { status: "CANCELED", canceledAt: 1_700_000_000_500 } });
    expect(result.outcome === "found" && "estimatedStartAt" in result.run).toBe(false);
  });

  test("invalid times read as absent, never as canceled or delayed", async () => {
    const { buffer } = withEntry(
      bufferedEntry({
        mutations: { canceled: { at: Number.NaN, reason: "x" }, delayUntil: Number.NaN },
        snapshot: { options: { delayUntil: "soon" as unknown as number } },
      }),
    );
    const readFallback = createReadFallback(testOptions({ buffer }));
    expect(await readFallback.findRun(ref)).toMatchObject({
      run: { status: "QUEUED", canceledAt: undefined, delayUntil: undefined },
    });
  });

  test("a reset idempotency key no longer shows on the buffered run", async () => {
    const { buffer } = withEntry(
      bufferedEntry({
        snapshot: { options: { idempotencyKey: "key-1" } },
        mutations: { idempotencyReset: true },
      }),
    );
    const readFallback = createReadFallback(testOptions({ buffer }));
    expect(await readFallback.findRun(ref)).toMatchObject({ run: { idempotencyKey: undefined } });
  });

  test("no drain-rate estimate, or a failing one, leaves the ETA out but keeps the position", async () => {
    for (const estimateDrainRate of [
      () => undefined,
      () => 0,
      () => {
        throw new Error("no metrics");
      },
    ]) {
      const { buffer } = withEntry(bufferedEntry({ position: 2 }));
      const readFallback = createReadFallback(testOptions({ buffer, estimateDrainRate }));
      const result = await readFallback.findRun(ref);
      expect(result).toMatchObject({ run: { queuePosition: 2 } });
      expect(result.outcome === "found" && result.run.estimatedStartAt).toBeUndefined();
    }
  });

  test("a run the drainer inserts and acks between the database and buffer reads is found by the second database read", async () => {
    const runStore = new InMemoryRunStore();
    const buffer = fakeBuffer({
      // Plays the drainer: by the time the buffer is read, the run was inserted and acked.
      getEntry: async () => {
        runStore.insert(runRecord({ id: "run-1", status: "PENDING" }));
        return undefined;
      },
    });
    const readFallback = createReadFallback(testOptions({ buffer, runStore }));
    expect(await readFallback.findRun(ref)).toMatchObject({
      outcome: "found",
      run: { status: "PENDING", source: "database" },
    });
    expect(runStore.calls.map((call) => call.method)).toEqual(["findRun", "findRun"]);
  });

  test("a run that is nowhere is not_found after exactly one database re-check", async () => {
    const runStore = new InMemoryRunStore();
    const readFallback = createReadFallback(testOptions({ buffer: withEntry(undefined).buffer, runStore }));
    expect(await readFallback.findRun(ref)).toEqual({ outcome: "not_found" });
    expect(runStore.calls).toHaveLength(2);
  });

  test("another org or env is not_found, and every store call names the caller's org and env", async () => {
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-1" }));
    const { buffer, lookups } = withEntry(undefined);
    const readFallback = createReadFallback(testOptions({ buffer, runStore }));
    expect(await readFallback.findRun({ ...ref, orgId: "org-2" })).toEqual({ outcome: "not_found" });
    expect(await readFallback.findRun({ ...ref, envId: "env-2" })).toEqual({ outcome: "not_found" });
    expect(runStore.calls.map((call) => call.request)).toEqual([
      { ...ref, orgId: "org-2" },
      { ...ref, orgId: "org-2" },
      { ...ref, envId: "env-2" },
      { ...ref, envId: "env-2" },
    ]);
    expect(lookups).toEqual([
      { ...ref, orgId: "org-2" },
      { ...ref, envId: "env-2" },
    ]);
  });

  test("a store or buffer that ignores the tenant filter still never hands out another tenant's run", async () => {
    class LeakyRunStore extends InMemoryRunStore {
      override async findRun() {
        return runRecord({ id: "run-1", orgId: "org-1" });
      }
    }
    const leaky = new LeakyRunStore();
    const { buffer } = withEntry(bufferedEntry({ orgId: "org-1" }));
    const readFallback = createReadFallback(testOptions({ buffer, runStore: leaky }));
    expect(await readFallback.findRun({ ...ref, orgId: "org-2" })).toEqual({ outcome: "not_found" });
  });

  test.each(["orgId", "envId", "runId"] as const)(
    "an undefined or empty %s throws INVALID_INPUT and never reaches the database",
    async (field) => {
      const runStore = new InMemoryRunStore();
      const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer(), runStore }));
      for (const value of [undefined, "", 42]) {
        const error = await readFallback
          .findRun({ ...ref, [field]: value as unknown as string })
          .catch((caught: unknown) => caught);
        expect(ReadFallbackError.isInstance(error) && error.code).toBe("INVALID_INPUT");
      }
      expect(runStore.calls).toHaveLength(0);
    },
  );

  test("a buffer outage answers degraded when the database does not have the run", async () => {
    const failure = new Error("down");
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ getEntry: () => Promise.reject(failure) }) }),
    );
    expect(await readFallback.findRun(ref)).toEqual({
      outcome: "degraded",
      reason: "redis_error",
      error: failure,
    });
  });
});
