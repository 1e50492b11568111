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
import type { BufferSetMetadataResult } from "./read-fallback-buffer.js";

const ref = { orgId: "org-1", envId: "env-1", runId: "run-1" };
const append = (item: string) => (current: string | undefined) =>
  JSON.stringify([...(current === undefined ? [] : (JSON.parse(current) as string[])), item]);

/** A buffer whose setMetadata loses `conflicts` compare-and-sets to "someone else" first. */
function contendedBuffer(conflicts: number) {
  let metadata: string | undefined;
  let version = 0;
  let calls = 0;
  const writes: Array<{ metadata: string; expectedVersion: number }> = [];
  const buffer = fakeBuffer({
    getEntry: async () => bufferedEntry({ mutations: { metadata, metadataVersion: version } }),
    setMetadata: async (request): Promise<BufferSetMetadataResult> => {
      writes.push({ metadata: request.metadata, expectedVersion: request.expectedVersion });
      if (calls++ < conflicts) {
        // Another writer got in first.
        metadata = JSON.stringify([
          ...(metadata === undefined ? [] : (JSON.parse(metadata) as string[])),
          "other",
        ]);
        version += 1;
      }
      if (request.expectedVersion !== version) return { outcome: "version_conflict", version };
      metadata = request.metadata;
      version += 1;
      return { outcome: "updated", version };
    },
  });
  return { buffer, writes, current: () => metadata };
}

describe("updateMetadata", () => {
  test("a conflict re-reads and re-applies the update on the newer metadata after a jittered backoff", async () => {
    const time = manualTime();
    const contended = contendedBuffer(2);
    const readFallback = createReadFallback(
      testOptions({ buffer: contended.buffer, metadataBackoff: { initialDelayMs: 10, jitter: 0 } }, time),
    );
    const result = await readFallback.updateMetadata({ ...ref, update: append("mine") });
    expect(result).toEqual({
      outcome: "updated",
      version: 3,
      metadata: '["other","other","mine"]',
      attempts: 3,
      source: "buffer",
    });
    expect(contended.writes.map((write) => write.expectedVersion)).toEqual([0, 1, 2]);
    expect(time.sleeps).toEqual([10, 20]);
  });

  test("after maxMetadataAttempts lost compare-and-sets it answers version_conflict", async () => {
    const contended = contendedBuffer(100);
    const readFallback = createReadFallback(
      testOptions({ buffer: contended.buffer, maxMetadataAttempts: 4 }),
    );
    expect(await readFallback.updateMetadata({ ...ref, update: append("mine") })).toEqual({
      outcome: "version_conflict",
      version: 4,
      attempts: 4,
    });
    expect(contended.writes).toHaveLength(4);
  });

  test("the trigger's metadata is the starting point of the first update", async () => {
    const seen: Array<string | undefined> = [];
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          getEntry: async () => bufferedEntry({ snapshot: { options: { metadata: { a: 1 } } } }),
          setMetadata: async () => ({ outcome: "updated", version: 1 }),
        }),
      }),
    );
    await readFallback.updateMetadata({
      ...ref,
      update: (current) => {
        seen.push(current);
        return "{}";
      },
    });
    expect(seen).toEqual(['{"a":1}']);
  });

  test("a run in the database is updated there by compare-and-set on its version", async () => {
    const runStore = new InMemoryRunStore();
    runStore.insert(runRecord({ id: "run-1", metadata: '["x"]', metadataVersion: 7 }));
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ getEntry: async () => undefined }), runStore }),
    );
    expect(await readFallback.updateMetadata({ ...ref, update: append("y") })).toEqual({
      outcome: "updated",
      version: 8,
      metadata: '["x","y"]',
      attempts: 1,
      source: "database",
    });
  });

  test("an update that does not return JSON text throws INVALID_INPUT and writes nothing", async () => {
    const contended = contendedBuffer(0);
    const readFallback = createReadFallback(testOptions({ buffer: contended.buffer }));
    await expect(readFallback.updateMetadata({ ...ref, update: () => "{not json" })).rejects.toThrow(
      "valid JSON text",
    );
    expect(contended.writes).toHaveLength(0);
  });

  test("one wait bound covers every attempt: a conflict and then a lease that never ends answer timed_out at leasePolling.maxWaitMs", async () => {
    const time = manualTime();
    let reads = 0;
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({
            getEntry: async () => bufferedEntry({ state: reads++ === 0 ? "queued" : "leased" }),
            setMetadata: async () => ({ outcome: "version_conflict", version: 1 }),
          }),
          leasePolling: { initialDelayMs: 100, maxDelayMs: 100, jitter: 0, maxWaitMs: 1_000 },
          metadataBackoff: { initialDelayMs: 50, jitter: 0 },
        },
        time,
      ),
    );
    expect(await readFallback.updateMetadata({ ...ref, update: () => "{}" })).toEqual({
      outcome: "timed_out",
      waitedMs: 1_000,
    });
    expect(time.sleeps[0]).toBe(50);
    expect(time.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(1_000);
  });
});
