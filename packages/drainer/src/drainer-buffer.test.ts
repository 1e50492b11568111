import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { redisTest, redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import type { DrainSource } from "./drain-source.js";
import { Drainer } from "./drainer.js";
import type { DrainRateLimiter } from "./drainer-options.js";
import { SharedRateLimiter } from "./rate-limiter.js";
import type { TerminalFailure } from "./terminal-failure.js";
import { fill, trigger } from "./test-support/buffer-fixtures.js";
import { recordingRecorder } from "./test-support/recording-recorder.js";

class PermanentError extends Error {}

const fast = { idleDelayMs: 5, maintenanceIntervalMs: 10, backoff: { baseMs: 5, maxMs: 50 } } as const;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe.each(redisTopologies)("Drainer on a MollifierBuffer on $name", ({ test }) => {
  test("an entry whose lease keeps expiring ends FAILED once its attempts are used up and reaches onTerminalFailure once, as lease_expired", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 2 } });
    await buffer.accept(trigger("org", "env", 1));
    // Two consumers crash holding the entry: each lease expires without an ack.
    const crash = async () => {
      const { entries } = await buffer.lease({ orgId: "org", envId: "env", count: 1, leaseMs: 20 });
      expect(entries).toHaveLength(1);
    };
    await crash();
    await vi.waitFor(
      async () => {
        await buffer.reapExpiredLeases();
        expect(await buffer.getEntry({ orgId: "org", envId: "env", runId: "run_org_env_1" })).toMatchObject({
          state: "queued",
          attempts: 1,
        });
      },
      { timeout: 5_000, interval: 20 },
    );
    await crash();
    const recorder = recordingRecorder();
    const handled: string[] = [];
    const failures: TerminalFailure<LeasedEntry>[] = [];
    // A healthy drainer now runs the reaper: the second expiry uses up the attempts.
    const maintenance = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      concurrency: 1,
      handler: async (entry) => {
        handled.push(entry.runId);
      },
      onTerminalFailure: async (failure) => {
        failures.push(failure);
      },
    });
    maintenance.start();
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 10_000 });
    await maintenance.stop();
    // Nothing is left for a later reaper pass to fail (and hand to the hook) again.
    expect(await buffer.reapExpiredLeases()).toMatchObject({ reaped: 0, failed: 0 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      kind: "lease_expired",
      orgId: "org",
      envId: "env",
      runId: "run_org_env_1",
      attempts: 2,
      message: expect.stringContaining("attempts exhausted"),
      // The entry as far as the FAILED record holds it: the snapshot, not the mutations.
      entry: { runId: "run_org_env_1", attempts: 2, snapshot: { runId: "run_org_env_1", taskId: "task" } },
    });
    expect(recorder.events.failed[0]).toMatchObject({
      orgId: "org",
      envId: "env",
      runId: "run_org_env_1",
      kind: "attempts_exhausted",
      attempts: 2,
    });
    expect(handled).toEqual([]);
    expect(await buffer.getEntry({ orgId: "org", envId: "env", runId: "run_org_env_1" })).toBeUndefined();
    expect(await buffer.getFailed({ orgId: "org", envId: "env", runId: "run_org_env_1" })).toMatchObject({
      kind: "attempts_exhausted",
      attempts: 2,
    });
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(0);
  });

  test("a failure the reaper made for a drainer that died before its hook ran reaches another drainer's hook, once", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 1 }, failureReportRetryMs: 100 });
    await buffer.accept(trigger("org", "env", 1));
    await buffer.lease({ orgId: "org", envId: "env", count: 1, leaseMs: 20 });
    // The drainer whose reaper failed the entry dies with the answer: its hook never runs.
    await vi.waitFor(async () => expect((await buffer.reapExpiredLeases()).failed).toBe(1), {
      timeout: 5_000,
      interval: 20,
    });
    const recorder = recordingRecorder();
    const failures: TerminalFailure<LeasedEntry>[] = [];
    const survivor = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      handler: async () => {},
      onTerminalFailure: async (failure) => {
        failures.push(failure);
      },
    });
    survivor.start();
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 10_000 });
    // Settled: later passes, past the retry time, do not hand it out again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await survivor.stop();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      kind: "lease_expired",
      runId: "run_org_env_1",
      attempts: 1,
      message: expect.stringContaining("attempts exhausted"),
      entry: { runId: "run_org_env_1", snapshot: { taskId: "task" } },
    });
    // Counted as failed once, by the reaper's own drainer (which died), not again here.
    expect(recorder.events.failed).toEqual([]);
    expect(await buffer.claimUnreportedFailures()).toMatchObject({ failures: [] });
  });

  test("a hook that throws for a failure the source made is run again later, until it succeeds", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 1 }, failureReportRetryMs: 50 });
    await buffer.accept(trigger("org", "env", 1));
    await buffer.lease({ orgId: "org", envId: "env", count: 1, leaseMs: 20 });
    const recorder = recordingRecorder();
    let calls = 0;
    const written: string[] = [];
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      handler: async () => {},
      onTerminalFailure: async (failure) => {
        calls += 1;
        // The failed-run row cannot be written the first two times (its database is down).
        if (calls <= 2) throw new Error("database unavailable");
        written.push(failure.runId);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(written).toEqual(["run_org_env_1"]), { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await drainer.stop();
    expect(calls).toBe(3);
    expect(recorder.events.failed).toHaveLength(1);
    expect(recorder.events.degraded.filter((event) => event.reason === "terminal_hook_failed")).toHaveLength(
      2,
    );
  });

  test("three drainers in parallel on one buffer handle every entry exactly once, none lost", async ({
    redis,
    createRedisClient,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const accepted: string[] = [];
    for (let org = 0; org < 6; org += 1) {
      accepted.push(...(await fill(buffer, `org-${org}`, ["env-a", "env-b", "env-c"], 40)));
    }
    const handled = new Map<string, number>();
    const drainers = [0, 1, 2].map(
      () =>
        new Drainer({
          ...fast,
          source: new MollifierBuffer({ redis: createRedisClient() }),
          concurrency: 5,
          handler: async (entry) => {
            // The full snapshot is typed through the port: the buffer's LeasedEntry.
            expect(entry.snapshot.taskId).toBe("task");
            handled.set(entry.runId, (handled.get(entry.runId) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 1));
          },
        }),
    );
    for (const drainer of drainers) drainer.start();
    await vi.waitFor(async () => expect((await buffer.stats()).depth).toBe(0), {
      timeout: 60_000,
      interval: 50,
    });
    await Promise.all(drainers.map((drainer) => drainer.stop()));
    expect(handled.size).toBe(accepted.length);
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
    expect(accepted.every((runId) => handled.has(runId))).toBe(true);
  });

  test("a retryable failure is retried through the buffer's retry set and then acked", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    await buffer.accept(trigger("org", "env", 1));
    let calls = 0;
    const recorder = recordingRecorder();
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error("database busy");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.drained).toHaveLength(1), { timeout: 20_000 });
    await drainer.stop();
    expect(calls).toBe(2);
    expect(recorder.events.retried).toMatchObject([{ runId: "run_org_env_1", attempts: 1 }]);
    expect(recorder.events.drained[0]?.timeInBufferMs).toBeGreaterThanOrEqual(0);
    expect((await buffer.stats()).depth).toBe(0);
  });

  test("terminal failures go through onTerminalFailure and end as FAILED records", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    await buffer.accept(trigger("org", "env", 1)); // non-retryable
    await buffer.accept(trigger("org", "env", 2)); // retryable until its attempts run out
    const hook: string[] = [];
    const recorder = recordingRecorder();
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      isRetryable: (error) => !(error instanceof PermanentError),
      handler: async (entry) => {
        throw entry.runId.endsWith("_1") ? new PermanentError("bad payload") : new Error("busy");
      },
      onTerminalFailure: async ({ runId, kind }) => {
        hook.push(`${runId}:${kind}`);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.failed).toHaveLength(2), { timeout: 20_000 });
    await drainer.stop();
    expect(hook.sort()).toEqual(["run_org_env_1:terminal", "run_org_env_2:attempts_exhausted"]);
    const failed = await buffer.getFailed({ orgId: "org", envId: "env", runId: "run_org_env_1" });
    expect(failed).toMatchObject({ runId: "run_org_env_1" });
    expect((await buffer.stats()).depth).toBe(0);
  });
});

describe.each(redisTopologies)("shared rate cap on $name", ({ test }) => {
  test("two drainers on separate connections draw on one Redis budget and together lease no more than it holds", async ({
    redis,
    createRedisClient,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await fill(buffer, "org", ["env"], 20);
    const handled: string[] = [];
    const limitedCalls = [0, 0];
    const drainers = [0, 1].map((index) => {
      const client = createRedisClient();
      // A bucket of 3 tokens that refills one token per 1,000 seconds: the test counts, it never times.
      // Once limited, a drainer sleeps until a token is due; stop() cuts that sleep short.
      const shared = new SharedRateLimiter({ redis: client, ratePerSecond: 0.001, burst: 3 });
      const counting: DrainRateLimiter = {
        ratePerSecond: shared.ratePerSecond,
        acquire: async (wanted) => {
          const result = await shared.acquire(wanted);
          if (result.outcome === "limited") limitedCalls[index] = (limitedCalls[index] ?? 0) + 1;
          return result;
        },
      };
      const recorder = recordingRecorder();
      const drainer = new Drainer({
        ...fast,
        source: new MollifierBuffer({ redis: client }),
        rateLimiter: counting,
        recorder,
        handler: async (entry) => {
          handled.push(entry.runId);
        },
      });
      return { drainer, recorder };
    });
    for (const { drainer } of drainers) drainer.start();
    await vi.waitFor(() => expect(Math.min(...limitedCalls)).toBeGreaterThanOrEqual(1), { timeout: 20_000 });
    await Promise.all(drainers.map(({ drainer }) => drainer.stop()));
    expect(handled).toHaveLength(3);
    expect(await buffer.depth({ orgId: "org" })).toBe(17);
    expect(drainers[0]?.recorder.events.drainLimits[0]).toEqual({ ratePerSecond: 0.001, concurrency: 10 });
  });
});

redisTest(
  "a hook that fails retryably leaves the entry in the buffer and it is failed once the hook succeeds",
  async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    await buffer.accept(trigger("org", "env", 1));
    let hookCalls = 0;
    const recorder = recordingRecorder();
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      isRetryable: (error) => !(error instanceof PermanentError),
      handler: async () => {
        throw new PermanentError("bad payload");
      },
      onTerminalFailure: async () => {
        hookCalls += 1;
        if (hookCalls === 1) throw new Error("database down");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.failed).toHaveLength(1), { timeout: 20_000 });
    await drainer.stop();
    expect(hookCalls).toBe(2);
    expect(recorder.events.retried).toHaveLength(1);
    expect(await buffer.getFailed({ orgId: "org", envId: "env", runId: "run_org_env_1" })).toBeDefined();
  },
);

redisTest(
  "an ack that fails after the handler succeeded is not a handler failure: the reaper redelivers the entry",
  async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, leaseMs: 300 });
    await buffer.accept(trigger("org", "env", 1));
    let ackFailures = 1;
    // The real buffer, with its first ack failing as a Redis blip would.
    const source: DrainSource<LeasedEntry> = {
      lease: (request) => buffer.lease(request),
      extendLease: (entry, leaseMs) => buffer.extendLease(entry, leaseMs),
      ack: async (entry) => {
        if (ackFailures > 0) {
          ackFailures -= 1;
          throw new Error("connection reset by peer");
        }
        return buffer.ack(entry);
      },
      retry: (entry, failure) => buffer.retry(entry, failure),
      fail: (entry, failure) => buffer.fail(entry, failure),
      reapExpiredLeases: (options) => buffer.reapExpiredLeases(options),
      promoteDueRetries: (options) => buffer.promoteDueRetries(options),
      shards: () => buffer.shards(),
      activeOrgs: (shard) => buffer.activeOrgs(shard),
      activeEnvs: (orgId) => buffer.activeEnvs(orgId),
    };
    const recorder = recordingRecorder();
    let calls = 0;
    const drainer = new Drainer({
      ...fast,
      source,
      recorder,
      leaseMs: 300,
      handler: async () => {
        calls += 1;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.drained).toHaveLength(1), { timeout: 20_000 });
    await drainer.stop();
    expect(calls).toBe(2); // the second delivery is absorbed by the handler's idempotency
    expect(recorder.events.degraded.map((event) => event.reason)).toContain("ack_failed");
    expect(recorder.events.retried).toEqual([]);
    expect(recorder.events.failed).toEqual([]);
    expect(recorder.events.reaped).toEqual([{ count: 1 }]);
    expect((await buffer.stats()).depth).toBe(0);
  },
);

redisTest(
  "stop waits for a long handler whose lease it keeps extending; after a timeout another drainer takes the entry",
  async ({ redis, createRedisClient }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger("org", "env", 1));
    await buffer.accept(trigger("org", "env", 2));
    const release = deferred();
    const started: string[] = [];
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      concurrency: 1,
      leaseMs: 200,
      leaseExtendIntervalMs: 50,
      handler: async (entry) => {
        started.push(entry.runId);
        await release.promise;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(started).toHaveLength(1));
    const stopping = drainer.stop({ timeoutMs: 60_000 });
    // The lease outlives its 200 ms because it is extended; nothing else is leased meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await buffer.reapExpiredLeases()).toMatchObject({ reaped: 0, failed: 0 });
    release.resolve();
    expect(await stopping).toEqual({ outcome: "stopped" });
    expect(started).toEqual(["run_org_env_1"]);
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(1);

    const hung = deferred();
    const second = new Drainer({
      ...fast,
      source: buffer,
      leaseMs: 200,
      leaseExtendIntervalMs: 50,
      handler: async () => hung.promise,
    });
    second.start();
    await vi.waitFor(() => expect(second.inFlight).toBe(1));
    expect(await second.stop({ timeoutMs: 10 })).toEqual({ outcome: "timed_out", inFlight: 1 });
    // No longer extended, the lease expires and a third drainer finishes the entry.
    const handled: string[] = [];
    const third = new Drainer({
      ...fast,
      source: new MollifierBuffer({ redis: createRedisClient() }),
      handler: async (entry) => {
        handled.push(entry.runId);
      },
    });
    third.start();
    await vi.waitFor(() => expect(handled).toEqual(["run_org_env_2"]), { timeout: 20_000 });
    await third.stop();
    hung.resolve();
  },
);

redisTest(
  "loop errors during a Redis outage back off, are reported, and draining recovers once Redis is back",
  async ({ redisEndpoint, createRedisClient }) => {
    const redis = createRedisClient({ maxRetriesPerRequest: 1, enableOfflineQueue: true });
    redis.on("error", () => {}); // the outage is the point; the drainer reports it through the recorder
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger("org", "env", 1));
    const recorder = recordingRecorder();
    const handled: string[] = [];
    const drainer = new Drainer({
      ...fast,
      source: buffer,
      recorder,
      handler: async (entry) => {
        handled.push(entry.runId);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(handled).toEqual(["run_org_env_1"]), { timeout: 20_000 });
    await redisEndpoint.stop();
    await vi.waitFor(
      () =>
        expect(
          recorder.events.degraded.filter((event) => event.reason === "loop_error").length,
        ).toBeGreaterThan(2),
      { timeout: 30_000 },
    );
    await redisEndpoint.start(); // the restarted server is empty
    await vi.waitFor(
      async () =>
        expect(await buffer.accept(trigger("org", "env", 2))).toMatchObject({ outcome: "accepted" }),
      {
        timeout: 30_000,
        interval: 100,
      },
    );
    await vi.waitFor(() => expect(handled).toContain("run_org_env_2"), { timeout: 30_000 });
    expect(await drainer.stop()).toEqual({ outcome: "stopped" });
  },
);
