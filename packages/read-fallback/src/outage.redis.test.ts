import { MollifierBuffer } from "@mollifier/buffer";
import type { DegradedEvent } from "@mollifier/telemetry";
import { noopRecorder } from "@mollifier/telemetry";
import { redisTest } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { InMemoryRunStore, runRecord } from "./fakes.test-support.js";
import { createReadFallback } from "./read-fallback.js";

const key = { orgId: "org_1", envId: "env_1", taskId: "send-email", idempotencyKey: "key-1" };
const ref = { orgId: "org_1", envId: "env_1", runId: "run_1" };

describe("a Redis outage", () => {
  redisTest(
    "claims fail open (degraded), reads and mutations still serve the database, and nothing throws",
    async ({ createRedisClient, redisEndpoint }) => {
      // No offline queue: while Redis is down, commands fail at once instead of waiting for a reconnect.
      const client = createRedisClient({ enableOfflineQueue: false, retryStrategy: () => 50 });
      client.on("error", () => {}); // connection errors are expected here
      await vi.waitFor(() => expect(client.status).toBe("ready"));
      const degraded: DegradedEvent[] = [];
      const runStore = new InMemoryRunStore();
      runStore.insert(runRecord({ id: "run_in_db", orgId: "org_1", envId: "env_1" }));
      const readFallback = createReadFallback({
        buffer: new MollifierBuffer({ redis: client, shardCount: 4 }),
        runStore,
        recorder: { ...noopRecorder, degraded: (event) => degraded.push(event) },
      });
      expect(await readFallback.claimOrAwait(key)).toMatchObject({ outcome: "claimed" });

      await redisEndpoint.stop();
      try {
        await vi.waitFor(() => expect(client.status).not.toBe("ready"), { timeout: 10_000 });
        expect(await readFallback.claimOrAwait(key)).toMatchObject({
          outcome: "degraded",
          reason: "redis_error",
        });
        expect(await readFallback.findRun(ref)).toMatchObject({ outcome: "degraded" });
        expect(await readFallback.findRun({ ...ref, runId: "run_in_db" })).toMatchObject({
          outcome: "found",
          run: { source: "database" },
        });
        expect(await readFallback.cancelRun(ref)).toMatchObject({ outcome: "degraded" });
        expect(await readFallback.cancelRun({ ...ref, runId: "run_in_db" })).toMatchObject({
          outcome: "canceled",
          source: "database",
        });
        expect(await readFallback.findIdempotentRun(key)).toMatchObject({ outcome: "degraded" });
        expect(degraded.map((event) => event.component)).toEqual([
          "claim",
          "read_fallback",
          "read_fallback",
          "read_fallback",
          "read_fallback",
        ]);
      } finally {
        await redisEndpoint.start();
      }
      await vi.waitFor(() => expect(client.status).toBe("ready"), { timeout: 10_000 });
      // The restarted server is empty: the key can be claimed again.
      expect(await readFallback.claimOrAwait(key)).toMatchObject({ outcome: "claimed" });
    },
  );

  redisTest(
    "a Redis that stops answering fails the claim open (degraded) once the client's commandTimeout passes",
    async ({ redis, createRedisClient }) => {
      const client = createRedisClient({ enableOfflineQueue: false, commandTimeout: 200 });
      await vi.waitFor(() => expect(client.status).toBe("ready"));
      const readFallback = createReadFallback({
        buffer: new MollifierBuffer({ redis: client, shardCount: 4 }),
        runStore: new InMemoryRunStore(),
      });
      expect(await readFallback.claimOrAwait(key)).toMatchObject({ outcome: "claimed" });
      // The connection stays up but no command is answered until the pause ends.
      await redis.call("CLIENT", "PAUSE", "1000", "ALL");
      try {
        expect(await readFallback.claimOrAwait({ ...key, idempotencyKey: "key-2" })).toMatchObject({
          outcome: "degraded",
          reason: "redis_error",
        });
      } finally {
        await redis.call("CLIENT", "UNPAUSE");
      }
    },
  );
});
