import { type AcceptInput, type LeasedEntry, MollifierBuffer, reshard } from "@mollifier/buffer";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { Drainer } from "./drainer.js";

const fast = { idleDelayMs: 5, maintenanceIntervalMs: 10, backoff: { baseMs: 5, maxMs: 50 } } as const;
const ORGS = Array.from({ length: 24 }, (_, index) => `org-${index}`);
/** Keyed triggers whose handler holds them until the reshard is over: leased across the move. */
const KEYED = 12;

function trigger(index: number, overrides: Partial<AcceptInput> = {}): AcceptInput {
  const orgId = ORGS[index % ORGS.length] as string;
  return {
    runId: `run-${index}`,
    orgId,
    envId: `env-${index % 3}`,
    taskId: "task",
    payload: { index },
    ...overrides,
  };
}

function keyed(index: number, runId = `keyed-${index}`): AcceptInput {
  return trigger(index, { runId, envId: "keyed", options: { idempotencyKey: `key-${index}` } });
}

describe.each(redisTopologies)("a live reshard under load on $name", ({ test }) => {
  test("16 -> 64, crashed half-way and resumed, while one process accepts (4 senders, single and batched) and two drain: 0 lost, 0 duplicated, every idempotency key answers its run", async ({
    redis,
    createRedisClient,
  }) => {
    const accepter = new MollifierBuffer({ redis: createRedisClient(), shardCount: 16 });
    expect(await accepter.checkLayout()).toMatchObject({ outcome: "created" });
    const handled = new Map<string, number>();
    let releaseKeyed = () => {};
    const keyedHeld = new Promise<void>((resolve) => {
      releaseKeyed = resolve;
    });
    const heldKeyed = new Set<string>();
    const handler = async (entry: LeasedEntry) => {
      if (entry.envId === "keyed") {
        heldKeyed.add(entry.runId);
        await keyedHeld;
      }
      handled.set(entry.runId, (handled.get(entry.runId) ?? 0) + 1);
    };
    const drainers: Drainer<LeasedEntry>[] = [];
    const startDrainer = async (shardCount: number) => {
      const buffer = new MollifierBuffer({ redis: createRedisClient(), shardCount, layoutRefreshMs: 50 });
      const check = await buffer.checkLayout();
      const drainer = new Drainer({ ...fast, source: buffer, concurrency: 32, handler });
      drainer.start();
      drainers.push(drainer);
      return check;
    };
    await startDrainer(16);

    for (let index = 0; index < KEYED; index += 1) {
      expect(await accepter.accept(keyed(index))).toMatchObject({ outcome: "accepted" });
    }
    // Every keyed run is leased and held by a handler before the reshard starts.
    await vi.waitFor(() => expect(heldKeyed.size).toBe(KEYED), { timeout: 10_000 });

    const accepted: string[] = [];
    let accepting = true;
    // Four concurrent senders, single accepts and batches of 5 in turn, each with its own run ids.
    let next = 0;
    const sender = async (worker: number) => {
      for (let round = 0; accepting || next < 1_000; round += 1) {
        const size = (round + worker) % 2 === 0 ? 1 : 5;
        const inputs = Array.from({ length: size }, () => trigger(next++));
        const results =
          size === 1 ? [await accepter.accept(inputs[0] as AcceptInput)] : await accepter.acceptBatch(inputs);
        results.forEach((result, index) => {
          expect(result).toMatchObject({ outcome: "accepted", runId: inputs[index]?.runId });
          accepted.push(result.runId);
        });
      }
    };
    const acceptLoop = Promise.all([0, 1, 2, 3].map(sender));
    await vi.waitFor(() => expect(accepted.length).toBeGreaterThan(200), { timeout: 10_000 });

    let secondStarted: Promise<unknown> | undefined;
    const atStart = { accepted: 0, handled: 0 };
    // The first run dies half-way through copying shard 4 (its callers wait at the fence); the
    // second resumes it, re-copying that shard, while the load goes on.
    const crash = new AbortController();
    const crashed = await reshard({
      redis,
      to: 64,
      signal: crash.signal,
      onProgress: (progress) => {
        if (progress.step === "started")
          Object.assign(atStart, { accepted: accepted.length, handled: handled.size });
        if (progress.step === "copied" && progress.shard === 4) crash.abort(new Error("crashed"));
      },
    }).catch((error: unknown) => error);
    expect(crashed).toMatchObject({ message: "crashed" });
    const result = await reshard({
      redis,
      to: 64,
      onProgress: (progress) => {
        // A process configured for the new count starts half-way and joins the drain.
        if (progress.step === "moved" && progress.shard === 7) secondStarted = startDrainer(64);
      },
    });
    expect(result).toEqual({ outcome: "completed", from: 16, to: 64 });
    // Both went on while shards moved.
    expect(accepted.length).toBeGreaterThan(atStart.accepted);
    expect(handled.size).toBeGreaterThan(atStart.handled);
    expect(await secondStarted).toMatchObject({ outcome: "resharding", reshard: { from: 16, to: 64 } });
    accepting = false;
    await acceptLoop;

    // The keyed runs, leased through the move, still hold their keys, for either process.
    const fresh = new MollifierBuffer({ redis: createRedisClient(), shardCount: 64 });
    expect(await fresh.checkLayout()).toMatchObject({ outcome: "matched" });
    for (let index = 0; index < KEYED; index += 1) {
      for (const buffer of [accepter, fresh]) {
        expect(await buffer.accept(keyed(index, `again-${index}`))).toEqual({
          outcome: "duplicate_idempotency",
          runId: `keyed-${index}`,
        });
      }
    }
    releaseKeyed();

    const expected = [...accepted, ...Array.from({ length: KEYED }, (_, index) => `keyed-${index}`)];
    await vi.waitFor(() => expect(handled.size).toBe(expected.length), { timeout: 60_000, interval: 50 });
    await Promise.all(drainers.map((drainer) => drainer.stop({ timeoutMs: 5_000 })));
    expect([...handled.keys()].sort()).toEqual([...expected].sort());
    expect([...handled.values()].filter((count) => count !== 1)).toEqual([]);
    expect(await fresh.stats()).toMatchObject({ depth: 0, leasesInFlight: 0 });
  });
});
