import { describe, expect, test, vi } from "vitest";
import { Drainer } from "./drainer.js";
import { DrainerError } from "./drainer-error.js";
import type { DrainerOptions } from "./drainer-options.js";
import type { TerminalFailure } from "./terminal-failure.js";
import {
  BatchingFakeDrainSource,
  FakeDrainSource,
  type FakeEntry,
} from "./test-support/fake-drain-source.js";
import { recordingRecorder } from "./test-support/recording-recorder.js";

class RetryableError extends Error {}
class PermanentError extends Error {}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function drainerFor(source: FakeDrainSource, overrides: Partial<DrainerOptions<FakeEntry>> = {}) {
  const recorder = recordingRecorder();
  const drainer = new Drainer<FakeEntry>({
    source,
    handler: async () => {},
    isRetryable: (error) => !(error instanceof PermanentError),
    idleDelayMs: 5,
    maintenanceIntervalMs: 5,
    backoff: { baseMs: 1, maxMs: 10 },
    recorder,
    ...overrides,
  });
  return { drainer, recorder };
}

describe("Drainer (against a fake source)", () => {
  test("drains every entry once, acks it and reports time in buffer and handler duration", async () => {
    const source = new FakeDrainSource();
    source.add("org-a", "env-1", 30, source.now - 500);
    source.add("org-b", "env-1", 20, source.now - 500);
    const handled: string[] = [];
    const { drainer, recorder } = drainerFor(source, {
      clock: () => source.now,
      handler: async (entry) => {
        handled.push(entry.runId);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(50), { timeout: 10_000 });
    await drainer.stop();
    expect(new Set(handled).size).toBe(50);
    expect(handled).toHaveLength(50);
    expect(recorder.events.drained).toHaveLength(50);
    expect(recorder.events.drained[0]).toMatchObject({ timeInBufferMs: 500, handlerDurationMs: 0 });
    expect(recorder.events.drainLimits[0]).toEqual({ ratePerSecond: undefined, concurrency: 10 });
  });

  test("holds at most `concurrency` entries in flight, and one stuck handler does not stall the others", async () => {
    const source = new FakeDrainSource();
    source.add("org-a", "env-1", 1);
    source.add("org-b", "env-1", 40);
    const stuck = deferred();
    let running = 0;
    let peak = 0;
    const { drainer } = drainerFor(source, {
      concurrency: 4,
      handler: async (entry) => {
        running += 1;
        peak = Math.max(peak, running);
        if (entry.orgId === "org-a") await stuck.promise;
        else await new Promise((resolve) => setTimeout(resolve, 1));
        running -= 1;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(40), { timeout: 10_000 });
    expect(peak).toBeLessThanOrEqual(4);
    expect(drainer.inFlight).toBe(1);
    stuck.resolve();
    await drainer.stop();
    expect(source.acked).toHaveLength(41);
  });

  test("a finished handler's slot is reused before its ack is answered; two pools' worth of unanswered acks hold leasing back", async () => {
    const source = new BatchingFakeDrainSource();
    source.add("org", "env", 20);
    const acks = deferred();
    source.ackGate = acks.promise;
    const held = deferred();
    let started = 0;
    const { drainer } = drainerFor(source, {
      concurrency: 4,
      handler: async () => {
        started += 1;
        // The first handler returns at once; the next ones wait.
        if (started > 1) await held.promise;
      },
    });
    drainer.start();
    // Four slots busy with waiting handlers, the first one's ack still unanswered.
    await vi.waitFor(() => expect(started).toBe(5), { timeout: 10_000 });
    expect(drainer.inFlight).toBe(4);
    expect(source.acked).toHaveLength(0);
    held.resolve();
    // Handlers go on until eight acks (two pools of four) are unanswered; past that nothing more is
    // leased (a lease already granted may add one pool's worth).
    await vi.waitFor(() => expect(started).toBeGreaterThanOrEqual(8), { timeout: 10_000 });
    await vi.waitFor(() => expect(drainer.inFlight).toBe(0), { timeout: 10_000 });
    const plateau = started;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toBe(plateau);
    expect(plateau).toBeLessThanOrEqual(12);
    expect(source.acked).toHaveLength(0);
    acks.resolve();
    await vi.waitFor(() => expect(source.acked).toHaveLength(20), { timeout: 10_000 });
    await drainer.stop();
    expect(started).toBe(20);
  });

  test("stop resolves only once the acks of finished handlers are answered", async () => {
    const source = new BatchingFakeDrainSource();
    source.add("org", "env", 3);
    const acks = deferred();
    source.ackGate = acks.promise;
    let handled = 0;
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        handled += 1;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(handled).toBe(3), { timeout: 10_000 });
    let stopped = false;
    const stopping = drainer.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    acks.resolve();
    await stopping;
    expect(source.acked).toHaveLength(3);
    expect(recorder.events.drained).toHaveLength(3);
  });

  test("a source with activeSet is enumerated through it, one call per scheduling round", async () => {
    class ActiveSetSource extends FakeDrainSource {
      activeSetCalls = 0;
      async activeSet(): Promise<Map<string, string[]>> {
        this.activeSetCalls += 1;
        const active = new Map<string, string[]>();
        for (const shard of this.shards()) {
          for (const orgId of await this.activeOrgs(shard)) active.set(orgId, await this.activeEnvs(orgId));
        }
        return active;
      }
    }
    const source = new ActiveSetSource();
    source.add("org-a", "env-1", 15);
    source.add("org-bb", "env-2", 15);
    const { drainer } = drainerFor(source);
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(30), { timeout: 10_000 });
    await drainer.stop();
    expect(source.activeSetCalls).toBeGreaterThan(0);
    // Every enumeration went through activeSet (which itself lists each shard once).
    expect(source.calls.enumerate).toBe(source.activeSetCalls * source.shards().length);
  });

  test("leasing goes on from the round in progress while the next round's active set is read", async () => {
    class SlowEnumeration extends FakeDrainSource {
      gate: Promise<void> | undefined;
      override async activeOrgs(shard: number): Promise<string[]> {
        if (this.gate !== undefined) await this.gate;
        return super.activeOrgs(shard);
      }
    }
    const source = new SlowEnumeration();
    source.add("org-a", "env-1", 100);
    source.add("org-bb", "env-1", 100);
    const enumeration = deferred();
    let handled = 0;
    const { drainer } = drainerFor(source, {
      concurrency: 4,
      quantum: 2,
      handler: async () => {
        handled += 1;
        // From here on every re-read of the active set hangs.
        if (handled === 10) source.gate = enumeration.promise;
      },
    });
    drainer.start();
    // Both orgs were read before the gate closed: they drain to the end regardless.
    await vi.waitFor(() => expect(source.acked).toHaveLength(200), { timeout: 10_000 });
    enumeration.resolve();
    await drainer.stop();
  });

  test("a retryable handler error schedules a retry through the source, and the entry is handled again", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    let calls = 0;
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new RetryableError("database busy");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toEqual([runId]), { timeout: 10_000 });
    await drainer.stop();
    expect(calls).toBe(2);
    expect(recorder.events.retried).toEqual([
      { orgId: "org", envId: "env", runId, attempts: 1, delayMs: 0, error: "Error: database busy" },
    ]);
    expect(recorder.events.failed).toEqual([]);
  });

  test("a non-retryable error calls onTerminalFailure, then fails the entry as terminal", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    const hookCalls: string[] = [];
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        throw new PermanentError("bad payload");
      },
      onTerminalFailure: async (failure) => {
        // Handler failures carry the leased entry whole.
        if (failure.kind === "terminal") expect(failure.entry.runId).toBe(failure.runId);
        hookCalls.push(`${failure.runId}:${failure.kind}:${failure.message}:${failure.attempts}`);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.failed).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(hookCalls).toEqual([`${runId}:terminal:Error: bad payload:1`]);
    expect(source.failed).toEqual([{ runId, error: "Error: bad payload", kind: "terminal" }]);
    expect(recorder.events.failed).toMatchObject([{ runId, kind: "terminal", attempts: 1 }]);
    expect(source.calls.retry).toBe(0);
  });

  test("a handler that throws before returning a promise fails the entry like one that rejects", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    const { drainer, recorder } = drainerFor(source, {
      // Not async: the error is thrown by the call itself.
      handler: () => {
        throw new PermanentError("thrown at once");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.failed).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(source.failed).toEqual([{ runId, error: "Error: thrown at once", kind: "terminal" }]);
    expect(recorder.events.failed).toMatchObject([{ runId, kind: "terminal", attempts: 1 }]);
    expect(source.acked).toEqual([]);
  });

  test("a retryable error with its attempts exhausted goes through the hook and fails as attempts_exhausted", async () => {
    const source = new FakeDrainSource();
    source.maxAttempts = 2;
    const [runId] = source.add("org", "env", 1);
    const kinds: string[] = [];
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        throw new RetryableError("still busy");
      },
      onTerminalFailure: async ({ kind }) => {
        kinds.push(kind);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.failed).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(recorder.events.retried).toHaveLength(1);
    expect(kinds).toEqual(["attempts_exhausted"]);
    expect(recorder.events.failed).toMatchObject([{ runId, kind: "attempts_exhausted", attempts: 2 }]);
  });

  test("a hook that fails retryably retries the entry instead of dropping it", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    let hookCalls = 0;
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        throw new PermanentError("bad payload");
      },
      onTerminalFailure: async () => {
        hookCalls += 1;
        if (hookCalls === 1) throw new RetryableError("database down while writing the failed run");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.failed).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(hookCalls).toBe(2);
    expect(recorder.events.retried).toMatchObject([{ runId, attempts: 1 }]);
    expect(recorder.events.degraded).toMatchObject([{ reason: "terminal_hook_failed", runId }]);
    expect(source.failed).toEqual([{ runId, error: "Error: bad payload", kind: "terminal" }]);
  });

  test("a hook that fails non-retryably still fails the entry, with both errors recorded", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 1);
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        throw new PermanentError("bad payload");
      },
      onTerminalFailure: async () => {
        throw new PermanentError("hook bug");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.failed).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(source.failed[0]?.error).toBe("Error: bad payload (onTerminalFailure: Error: hook bug)");
    expect(recorder.events.failed).toHaveLength(1);
    expect(source.calls.retry).toBe(0);
  });

  test("an ack that fails after a successful handler is neither retried nor failed", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    source.inject("ack", new Error("connection reset"));
    let calls = 0;
    const { drainer, recorder } = drainerFor(source, {
      handler: async () => {
        calls += 1;
      },
    });
    drainer.start();
    await vi.waitFor(
      () => expect(recorder.events.degraded).toMatchObject([{ reason: "ack_failed", runId }]),
      {
        timeout: 10_000,
      },
    );
    await drainer.stop();
    expect(calls).toBe(1);
    expect(source.calls.retry).toBe(0);
    expect(source.calls.fail).toBe(0);
    expect(recorder.events.retried).toEqual([]);
    expect(recorder.events.failed).toEqual([]);
    expect(recorder.events.drained).toEqual([]);
    // The entry is still leased: the reaper returns it once the lease expires.
    expect(source.leases.has(runId ?? "")).toBe(true);
  });

  test("extends the lease while a handler runs long, so the reaper does not take the entry back", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    const release = deferred();
    const { drainer } = drainerFor(source, {
      leaseMs: 60,
      leaseExtendIntervalMs: 5,
      handler: async () => release.promise,
    });
    drainer.start();
    await vi.waitFor(() => expect(source.calls.extendLease).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    // Time in the source moves past the first deadline; the extended lease still holds.
    source.now += 50;
    await vi.waitFor(
      () => expect(source.leases.get(runId ?? "")?.leaseDeadline).toBeGreaterThan(source.now),
      {
        timeout: 10_000,
      },
    );
    await source.reapExpiredLeases();
    release.resolve();
    await vi.waitFor(() => expect(source.acked).toEqual([runId]), { timeout: 10_000 });
    await drainer.stop();
  });

  test("a lost lease aborts the handler's signal and the entry is not acked by this drainer", async () => {
    const source = new FakeDrainSource();
    const [runId] = source.add("org", "env", 1);
    let aborted = false;
    const { drainer, recorder } = drainerFor(source, {
      leaseMs: 60,
      leaseExtendIntervalMs: 5,
      handler: async (_entry, { signal }) => {
        // Another drainer took the entry over (the reaper returned it after an outage).
        source.leases.delete(runId ?? "");
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        aborted = signal.aborted;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(aborted).toBe(true), { timeout: 10_000 });
    await drainer.stop();
    const reasons = recorder.events.degraded.map((event) => event.reason);
    expect(reasons).toEqual(["lease_lost", "ack_lease_lost"]);
    expect(source.acked).toEqual([]);
    expect(recorder.events.drained).toEqual([]);
  });

  test("stop wakes an idle drainer at once and is idempotent; start is idempotent", async () => {
    const source = new FakeDrainSource();
    const { drainer } = drainerFor(source, { idleDelayMs: 3_600_000, maintenanceIntervalMs: 3_600_000 });
    expect(await drainer.stop()).toEqual({ outcome: "stopped" });
    drainer.start();
    drainer.start();
    await vi.waitFor(() => expect(source.calls.enumerate).toBeGreaterThan(0));
    const first = drainer.stop();
    const second = drainer.stop();
    expect(first).toBe(second);
    expect(await first).toEqual({ outcome: "stopped" });
    expect(drainer.state).toBe("idle");
    // One loop per start: a second start() did not add a second reaper.
    expect(source.calls.reap).toBe(1);
    // A stopped drainer starts again.
    source.add("org", "env", 3);
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(3), { timeout: 10_000 });
    await drainer.stop();
  });

  test("a lease call fills the free slots up to the quantum", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 100);
    const release = deferred();
    const { drainer } = drainerFor(source, {
      concurrency: 40,
      quantum: 40,
      handler: async () => release.promise,
    });
    drainer.start();
    await vi.waitFor(() => expect(drainer.inFlight).toBe(40));
    expect(source.leaseCounts[0]).toBe(40);
    release.resolve();
    await vi.waitFor(() => expect(source.acked).toHaveLength(100), { timeout: 10_000 });
    await drainer.stop();
  });

  test("with ackMany, acks of handlers that finish together are coalesced into batches", async () => {
    const source = new BatchingFakeDrainSource();
    source.add("org-a", "env-1", 60);
    const { drainer, recorder } = drainerFor(source, { concurrency: 20 });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(60), { timeout: 10_000 });
    await drainer.stop();
    expect(source.calls.ack).toBe(0);
    expect(source.ackBatches.reduce((sum, size) => sum + size, 0)).toBe(60);
    expect(source.ackBatches.length).toBeLessThan(60);
    expect(recorder.events.drained).toHaveLength(60);
  });

  test("an ackMany that fails after successful handlers is an ack failure, never a handler failure", async () => {
    const source = new BatchingFakeDrainSource();
    const runIds = source.add("org", "env", 3);
    source.inject("ackMany", new Error("connection reset"));
    const { drainer, recorder } = drainerFor(source, { concurrency: 3 });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.degraded).toHaveLength(3), { timeout: 10_000 });
    await drainer.stop();
    expect(recorder.events.degraded.map((event) => [event.reason, event.runId]).sort()).toEqual(
      runIds.map((runId) => ["ack_failed", runId]).sort(),
    );
    expect(source.calls.retry).toBe(0);
    expect(source.calls.fail).toBe(0);
    expect(recorder.events.failed).toEqual([]);
  });

  test("stop resolves only after the acks of finished handlers were sent and answered", async () => {
    const source = new BatchingFakeDrainSource();
    const runIds = source.add("org", "env", 4);
    let openAcks = () => {};
    source.ackGate = new Promise((resolve) => {
      openAcks = resolve;
    });
    const release = deferred();
    let started = 0;
    const { drainer, recorder } = drainerFor(source, {
      concurrency: 4,
      handler: async () => {
        started += 1;
        await release.promise;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(started).toBe(4));
    let stopped = false;
    const stopping = drainer.stop({ timeoutMs: 60_000 }).then((result) => {
      stopped = true;
      return result;
    });
    release.resolve();
    await vi.waitFor(() => expect(source.ackBatches.reduce((sum, size) => sum + size, 0)).toBe(4));
    expect(stopped).toBe(false);
    openAcks();
    expect(await stopping).toEqual({ outcome: "stopped" });
    expect([...source.acked].sort()).toEqual([...runIds].sort());
    expect(recorder.events.drained).toHaveLength(4);
  });

  test("stop waits for a long handler to finish, and returns timed_out when it outlasts the timeout", async () => {
    const source = new FakeDrainSource();
    const [first] = source.add("org", "env", 1);
    const release = deferred();
    let started = 0;
    const { drainer } = drainerFor(source, {
      handler: async () => {
        started += 1;
        await release.promise;
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(started).toBe(1));
    const stopping = drainer.stop({ timeoutMs: 60_000 });
    expect(drainer.state).toBe("stopping");
    expect(() => drainer.start()).toThrow(DrainerError);
    source.add("org", "env", 5);
    release.resolve();
    expect(await stopping).toEqual({ outcome: "stopped" });
    expect(source.acked).toEqual([first]);
    expect(started).toBe(1);

    const hung = deferred();
    const { drainer: second } = drainerFor(source, { concurrency: 1, handler: async () => hung.promise });
    second.start();
    await vi.waitFor(() => expect(second.inFlight).toBe(1));
    expect(await second.stop({ timeoutMs: 10 })).toEqual({ outcome: "timed_out", inFlight: 1 });
    hung.resolve();
  });

  test("a lease call that does not answer (its shard's master is down) holds back only its own env, and what it brings later is drained", async () => {
    const held = deferred();
    let masterDown = false;
    // The master of org-down's shard dies once the first lease is sent to it: that call is not
    // answered until the test lets it, and reads of the shard leave the org out meanwhile (what the
    // buffer's active set does for a shard that does not answer).
    class OneShardDown extends FakeDrainSource {
      override async lease(request: Parameters<FakeDrainSource["lease"]>[0]) {
        if (request.orgId === "org-down") {
          masterDown = true;
          await held.promise;
        }
        return super.lease(request);
      }
      override async activeOrgs(shard: number) {
        const orgs = await super.activeOrgs(shard);
        return masterDown ? orgs.filter((orgId) => orgId !== "org-down") : orgs;
      }
    }
    const source = new OneShardDown();
    source.add("org-down", "env", 3);
    source.add("org-a", "env", 40);
    source.add("org-b", "env", 40);
    const { drainer } = drainerFor(source, { concurrency: 4 });
    drainer.start();
    // Every entry of the healthy orgs is drained while the held org's lease is unanswered.
    await vi.waitFor(() => expect(source.acked).toHaveLength(80), { timeout: 10_000 });
    expect(source.acked.every((runId) => !runId.startsWith("org-down."))).toBe(true);
    held.resolve();
    masterDown = false;
    await vi.waitFor(() => expect(source.acked).toHaveLength(83), { timeout: 10_000 });
    await drainer.stop();
  });

  test("loop errors back off, are reported as degraded, and draining recovers", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 5);
    const outage = Array.from({ length: 4 }, () => new Error("ECONNREFUSED"));
    source.inject("lease", ...outage);
    source.inject("reap", new Error("ECONNREFUSED"));
    const { drainer, recorder } = drainerFor(source);
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(5), { timeout: 10_000 });
    await drainer.stop();
    const reasons = recorder.events.degraded.map((event) => event.reason);
    expect(reasons.filter((reason) => reason === "loop_error")).toHaveLength(4);
    expect(reasons).toContain("maintenance_error");
  });

  test("entries the source rejected as invalid reach onTerminalFailure as invalid_entry; reaped leases are reported", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 2);
    source.invalidNextLease = [{ runId: "broken", error: "snapshot does not parse" }];
    source.leases.set("expired", {
      orgId: "org",
      envId: "env",
      runId: "expired",
      attempts: 0,
      acceptedAt: 0,
      leaseDeadline: source.now - 1,
      leaseToken: -1,
    });
    const failures: TerminalFailure<FakeEntry>[] = [];
    const { drainer, recorder } = drainerFor(source, {
      onTerminalFailure: async (failure) => {
        failures.push(failure);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(3), { timeout: 10_000 });
    await drainer.stop();
    expect(failures).toEqual([
      {
        kind: "invalid_entry",
        orgId: "org",
        envId: "env",
        runId: "broken",
        entry: undefined,
        message: "snapshot does not parse",
        attempts: 0,
        error: "snapshot does not parse",
      },
    ]);
    expect(recorder.events.failed).toEqual([
      {
        orgId: "org",
        envId: "env",
        runId: "broken",
        kind: "invalid_entry",
        attempts: 0,
        error: "snapshot does not parse",
      },
    ]);
    expect(recorder.events.reaped).toEqual([{ count: 1 }]);
  });

  test("a lease the source failed instead of reaping (attempts used up) reaches onTerminalFailure once, as lease_expired", async () => {
    const source = new FakeDrainSource();
    source.leases.set("poison", {
      orgId: "org",
      envId: "env",
      runId: "poison",
      attempts: source.maxAttempts - 1,
      acceptedAt: 7,
      leaseDeadline: source.now - 1,
      leaseToken: -1,
    });
    const failures: TerminalFailure<FakeEntry>[] = [];
    const { drainer, recorder } = drainerFor(source, {
      onTerminalFailure: async (failure) => {
        failures.push(failure);
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    const error = "lease expired (attempts exhausted)";
    expect(failures).toEqual([
      {
        kind: "lease_expired",
        orgId: "org",
        envId: "env",
        runId: "poison",
        // What the source's getFailed still reads.
        entry: { orgId: "org", envId: "env", runId: "poison", attempts: source.maxAttempts, acceptedAt: 7 },
        message: error,
        attempts: source.maxAttempts,
        error,
      },
    ]);
    // Telemetry keeps the buffer's kind for it.
    expect(recorder.events.failed).toEqual([
      {
        orgId: "org",
        envId: "env",
        runId: "poison",
        kind: "attempts_exhausted",
        attempts: source.maxAttempts,
        error,
      },
    ]);
    expect(recorder.events.reaped).toEqual([]);
    expect(source.queued).toBe(0);
  });

  test("a hook that throws for a reaped entry is reported, and the entry stays failed in the source", async () => {
    const source = new FakeDrainSource();
    source.leases.set("poison", {
      orgId: "org",
      envId: "env",
      runId: "poison",
      attempts: source.maxAttempts - 1,
      acceptedAt: 0,
      leaseDeadline: source.now - 1,
      leaseToken: -1,
    });
    let hookCalls = 0;
    const { drainer, recorder } = drainerFor(source, {
      onTerminalFailure: async () => {
        hookCalls += 1;
        throw new RetryableError("database down while writing the failed run");
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(recorder.events.degraded).toHaveLength(1), { timeout: 10_000 });
    await drainer.stop();
    expect(hookCalls).toBe(1);
    expect(recorder.events.degraded).toMatchObject([
      {
        component: "drainer",
        reason: "terminal_hook_failed",
        runId: "poison",
        error: expect.any(RetryableError),
      },
    ]);
    expect(source.failed).toEqual([
      { runId: "poison", error: "lease expired (attempts exhausted)", kind: "attempts_exhausted" },
    ]);
    expect(source.calls.retry).toBe(0);
  });

  test("adaptive mode lowers concurrency when handlers slow down and reports the new limit", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 200);
    let now = 0;
    const { drainer, recorder } = drainerFor(source, {
      concurrency: 8,
      clock: () => now,
      adaptive: { targetLatencyMs: 100, windowMs: 1_000, minSamples: 5 },
      handler: async () => {
        now += 300; // every handler call takes 300 ms of the injected clock
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(drainer.concurrency).toBe(1), { timeout: 10_000 });
    await drainer.stop();
    const limits = recorder.events.drainLimits.map((event) => event.concurrency);
    expect(limits[0]).toBe(8);
    expect(limits).toContain(5);
    expect(limits.at(-1)).toBe(1);
  });

  test("a shared rate limiter caps how many entries are leased at once", async () => {
    const source = new FakeDrainSource();
    source.add("org", "env", 6);
    const asked: number[] = [];
    let limitedOnce = false;
    const { drainer, recorder } = drainerFor(source, {
      rateLimiter: {
        ratePerSecond: 2,
        acquire: async (wanted) => {
          asked.push(wanted);
          if (!limitedOnce) {
            limitedOnce = true;
            return { outcome: "limited", retryAfterMs: 1 };
          }
          return { outcome: "granted", count: 2 };
        },
      },
    });
    drainer.start();
    await vi.waitFor(() => expect(source.acked).toHaveLength(6), { timeout: 10_000 });
    await drainer.stop();
    expect(recorder.events.drainLimits[0]).toEqual({ ratePerSecond: 2, concurrency: 10 });
    expect(source.calls.lease).toBeGreaterThanOrEqual(3);
    expect(asked[0]).toBe(10);
  });

  test("invalid options fail early naming the option", () => {
    const source = new FakeDrainSource();
    expect(() => drainerFor(source, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => drainerFor(source, { leaseMs: 100, leaseExtendIntervalMs: 100 })).toThrow(
      /leaseExtendIntervalMs/,
    );
    expect(() => drainerFor(source, { quantum: -1 })).toThrow(/quantum/);
    expect(() => drainerFor(source, { backoff: { baseMs: -5 } })).toThrow(/backoff\.baseMs/);
  });
});
