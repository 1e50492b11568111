import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { Drainer } from "./drainer.js";
import { fill } from "./test-support/buffer-fixtures.js";
import { recordingRecorder } from "./test-support/recording-recorder.js";

const refused = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe.each(redisTopologies)("a database outage under a Drainer on $name", ({ test }) => {
  test("spends no attempts: entries wait on the circuit breaker with their leases kept, leasing pauses, and the drain resumes by itself", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 2 } });
    const runIds = await fill(buffer, "org", ["env"], 40);
    const recorder = recordingRecorder();
    let databaseUp = false;
    let callsWhileDown = 0;
    const written = new Map<string, LeasedEntry>();
    const drainer = new Drainer<LeasedEntry>({
      source: buffer,
      recorder,
      concurrency: 4,
      idleDelayMs: 5,
      maintenanceIntervalMs: 10,
      // Leases far shorter than the outage: only the lease keeper's extensions keep them.
      leaseMs: 300,
      circuitBreaker: { failureThreshold: 2, openMs: 20, maxOpenMs: 80 },
      handler: async (entry) => {
        if (!databaseUp) {
          callsWhileDown++;
          throw refused();
        }
        written.set(entry.runId, entry);
      },
    });
    drainer.start();
    try {
      // The outage lasts through many open periods and several lease lengths.
      await vi.waitFor(() => expect(callsWhileDown).toBeGreaterThanOrEqual(12), {
        timeout: 20_000,
        interval: 10,
      });
      await vi.waitFor(
        () =>
          expect(
            recorder.events.degraded.filter((e) => e.reason === "circuit_open").length,
          ).toBeGreaterThanOrEqual(3),
        { timeout: 20_000, interval: 10 },
      );
      // Leasing paused: only the first entries (one pool's worth) were ever leased.
      expect((await buffer.stats()).leasesInFlight).toBeLessThanOrEqual(4);
      databaseUp = true;
      await vi.waitFor(() => expect(written.size).toBe(runIds.length), { timeout: 20_000, interval: 20 });
    } finally {
      await drainer.stop();
    }
    // No attempt was spent and nothing failed or was retried: the outage was not the runs' fault.
    expect([...written.values()].map((entry) => entry.attempts)).toEqual(runIds.map(() => 0));
    expect(recorder.events.retried).toEqual([]);
    expect(recorder.events.failed).toEqual([]);
    expect(recorder.events.reaped).toEqual([]);
    expect(await buffer.stats()).toMatchObject({ depth: 0, leasesInFlight: 0 });
  });

  test("a drainer stopped during the outage gives its waiting entries back unspent: stop after stop never fails them", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 2 } });
    const runIds = await fill(buffer, "org", ["env"], 6);
    const recorder = recordingRecorder();
    let databaseUp = false;
    const written = new Map<string, LeasedEntry>();
    const drainer = () =>
      new Drainer<LeasedEntry>({
        source: buffer,
        recorder,
        concurrency: 3,
        idleDelayMs: 5,
        maintenanceIntervalMs: 10,
        circuitBreaker: { failureThreshold: 1, openMs: 20, maxOpenMs: 40 },
        handler: async (entry) => {
          if (!databaseUp) throw refused();
          written.set(entry.runId, entry);
        },
      });
    // A rolling restart during the outage, more restarts than the runs have attempts.
    for (let restart = 0; restart < 3; restart++) {
      const running = drainer();
      running.start();
      await vi.waitFor(
        () => expect(recorder.events.degraded.some((e) => e.reason === "circuit_open")).toBe(true),
        {
          timeout: 10_000,
          interval: 10,
        },
      );
      await vi.waitFor(async () => expect((await buffer.stats()).leasesInFlight).toBe(3), {
        timeout: 10_000,
        interval: 10,
      });
      expect(await running.stop({ timeoutMs: 50 })).toMatchObject({ outcome: "timed_out" });
      // Given back at once, not left to expire: every entry is queued again with no attempt spent.
      await vi.waitFor(async () => expect((await buffer.stats()).leasesInFlight).toBe(0), {
        timeout: 5_000,
        interval: 10,
      });
      recorder.events.degraded.length = 0;
    }
    for (const runId of runIds) {
      expect(await buffer.getEntry({ orgId: "org", envId: "env", runId })).toMatchObject({
        state: "queued",
        attempts: 0,
      });
    }
    databaseUp = true;
    const last = drainer();
    last.start();
    try {
      await vi.waitFor(() => expect(written.size).toBe(runIds.length), { timeout: 20_000, interval: 20 });
    } finally {
      await last.stop();
    }
    expect([...written.values()].map((entry) => entry.attempts)).toEqual(runIds.map(() => 0));
    expect(recorder.events.retried).toEqual([]);
    expect(recorder.events.failed).toEqual([]);
    expect(await buffer.stats()).toMatchObject({ depth: 0, leasesInFlight: 0 });
  });
});
