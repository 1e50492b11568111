import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferError } from "./errors.js";
import type { RedisClient } from "./lua-script.js";
import { reshard } from "./reshard.js";
import { shardTags } from "./shard-tags.js";
import type { AcceptInput } from "./snapshot.js";

const ORGS = Array.from({ length: 40 }, (_, index) => `org-${index}`);

function input(runId: string, orgId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return { runId, orgId, envId: "env", taskId: "task", payload: { runId }, options: {}, ...overrides };
}

async function allKeys(redis: RedisClient): Promise<string[]> {
  const nodes = "nodes" in redis ? redis.nodes("master") : [redis];
  const perNode = await Promise.all(nodes.map((node) => node.keys("*")));
  return perNode.flat().sort();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

/** Every kind of state the buffer keeps, spread over 40 orgs (so over every one of 16 shards). */
async function fillBuffer(buffer: MollifierBuffer) {
  for (const orgId of ORGS) {
    await buffer.acceptBatch([input(`${orgId}-q1`, orgId), input(`${orgId}-q2`, orgId, { envId: "other" })]);
    await buffer.accept(input(`${orgId}-keyed`, orgId, { options: { idempotencyKey: `key-${orgId}` } }));
    await buffer.accept(input(`${orgId}-leased`, orgId, { envId: "leasing" }));
    await buffer.accept(input(`${orgId}-retried`, orgId, { envId: "retrying" }));
    await buffer.accept(input(`${orgId}-failed`, orgId, { envId: "failing" }));
    await buffer.claim({
      orgId,
      envId: "env",
      taskId: "task",
      idempotencyKey: `claim-${orgId}`,
      token: "t",
      ttlMs: 60_000,
    });
  }
  const leased = [];
  for (const orgId of ORGS) {
    const [held] = (await buffer.lease({ orgId, envId: "leasing", count: 1 })).entries;
    const [retried] = (await buffer.lease({ orgId, envId: "retrying", count: 1 })).entries;
    const [failed] = (await buffer.lease({ orgId, envId: "failing", count: 1 })).entries;
    if (held === undefined || retried === undefined || failed === undefined)
      throw new Error("lease gave nothing");
    expect(await buffer.retry(retried, { error: "later" })).toMatchObject({ outcome: "scheduled" });
    expect(await buffer.fail(failed, { error: "boom" })).toEqual({ outcome: "failed" });
    leased.push(held);
  }
  // An entry that no longer decodes is failed at lease, its report left to be claimed.
  for (const orgId of ORGS) {
    await buffer.accept(input(`${orgId}-invalid`, orgId, { envId: "invalid" }));
    await buffer.context.redis.hset(
      buffer.keys.env(orgId, "invalid").entries,
      `${orgId}-invalid`,
      '1790000000000|{"schemaVersion":99}',
    );
    expect((await buffer.lease({ orgId, envId: "invalid", count: 1 })).invalid).toHaveLength(1);
  }
  return leased;
}

/** What every process can observe of the buffer, org by org. */
async function observe(buffer: MollifierBuffer) {
  const perOrg = [];
  for (const orgId of ORGS) {
    perOrg.push({
      orgId,
      depth: await buffer.depth({ orgId }),
      env: await buffer.depth({ orgId, envId: "env" }),
      q1: (await buffer.getEntry({ orgId, envId: "env", runId: `${orgId}-q1` }))?.state,
      q2: (await buffer.getEntry({ orgId, envId: "other", runId: `${orgId}-q2` }))?.state,
      leased: (await buffer.getEntry({ orgId, envId: "leasing", runId: `${orgId}-leased` }))?.state,
      retried: (await buffer.getEntry({ orgId, envId: "retrying", runId: `${orgId}-retried` }))?.state,
      failed: (await buffer.getFailed({ orgId, envId: "failing", runId: `${orgId}-failed` }))?.error,
      failedListed: (await buffer.listFailed({ orgId, envId: "failing" })).entries.map(
        (entry) => entry.runId,
      ),
      keyed: await buffer.lookupIdempotency({
        orgId,
        envId: "env",
        taskId: "task",
        idempotencyKey: `key-${orgId}`,
      }),
      claim: (
        await buffer.readClaim({ orgId, envId: "env", taskId: "task", idempotencyKey: `claim-${orgId}` })
      ).outcome,
      envs: await buffer.activeEnvs(orgId),
    });
  }
  const stats = await buffer.stats();
  return { perOrg, depth: stats.depth, leasesInFlight: stats.leasesInFlight };
}

describe.each(redisTopologies)("reshard on $name", ({ test }) => {
  test("a reshard from 16 to 64 moves every entry, lease, retry, FAILED record, unreported failure, idempotency key, claim and depth counter", async ({
    redis,
  }) => {
    const running = new MollifierBuffer({ redis, shardCount: 16, failureReportRetryMs: 1 });
    expect(await running.checkLayout()).toMatchObject({ outcome: "created" });
    const leased = await fillBuffer(running);
    const before = await observe(running);
    expect(before.depth).toBe(ORGS.length * 5);
    expect(before.leasesInFlight).toBe(ORGS.length);
    expect(before.perOrg.map((org) => org.failedListed)).toEqual(ORGS.map((orgId) => [`${orgId}-failed`]));

    const steps: string[] = [];
    expect(await reshard({ redis, to: 64, onProgress: (progress) => steps.push(progress.step) })).toEqual({
      outcome: "completed",
      from: 16,
      to: 64,
    });
    expect(steps.filter((step) => step === "moved")).toHaveLength(16);
    expect(await redis.hgetall("{mollifier}:layout")).toMatchObject({ version: "3", shardCount: "64" });

    // The running process follows; a process configured for 64 starts and sees the same buffer.
    expect(await running.refreshLayout()).toBe(true);
    expect(running.keys.shards()).toHaveLength(64);
    const started = new MollifierBuffer({ redis, shardCount: 64 });
    expect(await started.checkLayout()).toMatchObject({ outcome: "matched" });
    expect(await observe(running)).toEqual(before);
    expect(await observe(started)).toEqual(before);

    // No key of the old layout is left but its fences, which refuse a process that missed the move.
    const oldTags = new Set(shardTags("mollifier", 16));
    const left = (await allKeys(redis)).filter((key) => oldTags.has(key.slice(0, key.indexOf("}") + 1)));
    expect(left).toEqual([...oldTags].map((tag) => `${tag}:fence`).sort());

    // Leases taken before the move are still held by their tokens; the keyed run still holds its key.
    expect(await started.ackMany(leased)).toEqual(leased.map(() => ({ outcome: "acked" })));
    for (const orgId of ORGS) {
      expect(
        await started.accept(input(`${orgId}-again`, orgId, { options: { idempotencyKey: `key-${orgId}` } })),
      ).toEqual({
        outcome: "duplicate_idempotency",
        runId: `${orgId}-keyed`,
      });
    }
    expect((await started.stats()).depth).toBe(ORGS.length * 4);
    // Every report the old shards still owed is owed by the new ones.
    const { failures } = await started.claimUnreportedFailures({ limit: ORGS.length });
    expect(failures.map((failure) => failure.runId).sort()).toEqual(
      ORGS.map((orgId) => `${orgId}-invalid`).sort(),
    );
  });

  test("a process that has not re-read the layout is re-routed by the moved shard's fence on its next write", async ({
    redis,
    createRedisClient,
  }) => {
    const stale = new MollifierBuffer({
      redis: createRedisClient(),
      shardCount: 16,
      layoutRefreshMs: 3_600_000,
    });
    await stale.checkLayout();
    await stale.accept(input("before", "org-1", { options: { idempotencyKey: "k" } }));
    await reshard({ redis, to: 64 });
    expect(stale.keys.shards()).toHaveLength(16);
    // Accepted once, into the new layout: the fence answered `moved` and the buffer re-read the record.
    expect(await stale.accept(input("before", "org-1"))).toEqual({
      outcome: "duplicate_run",
      runId: "before",
    });
    expect(stale.keys.shards()).toHaveLength(64);
    expect(await stale.accept(input("other", "org-1", { options: { idempotencyKey: "k" } }))).toEqual({
      outcome: "duplicate_idempotency",
      runId: "before",
    });
    expect(await stale.depth({ orgId: "org-1" })).toBe(1);
  });

  test("a batch spanning moved and unmoved shards is answered per entry as if nothing had moved", async ({
    redis,
    createRedisClient,
  }) => {
    const stale = new MollifierBuffer({
      redis: createRedisClient(),
      shardCount: 16,
      layoutRefreshMs: 3_600_000,
    });
    await stale.checkLayout();
    await stale.acceptBatch(ORGS.map((orgId) => input(`${orgId}-a`, orgId)));
    const leased = [];
    for (const orgId of ORGS) leased.push(...(await stale.lease({ orgId, envId: "env", count: 1 })).entries);
    expect(await reshard({ redis, to: 64, maxShards: 8 })).toMatchObject({
      outcome: "paused",
      movedShards: 8,
    });
    // Half the shards moved since this process last read the layout: their calls are refused and sent again.
    expect(await stale.acceptBatch(ORGS.map((orgId) => input(`${orgId}-b`, orgId)))).toEqual(
      ORGS.map((orgId) => ({ outcome: "accepted", runId: `${orgId}-b`, position: 0 })),
    );
    expect(stale.keys.routing).toEqual({ shardCount: 16, reshardTo: 64, movedShards: 8 });
    await reshard({ redis, to: 64 });
    expect(await stale.ackMany(leased)).toEqual(leased.map(() => ({ outcome: "acked" })));
    expect(await stale.stats()).toMatchObject({ depth: ORGS.length, leasesInFlight: 0 });
  });

  test("a reshard stopped part-way (paused, or aborted mid-shard) resumes where it stopped, while processes go on", async ({
    redis,
  }) => {
    const running = new MollifierBuffer({ redis, shardCount: 16 });
    await running.checkLayout();
    const leased = await fillBuffer(running);
    const before = await observe(running);

    expect(await reshard({ redis, to: 64, maxShards: 5 })).toEqual({
      outcome: "paused",
      from: 16,
      to: 64,
      movedShards: 5,
    });
    expect(await redis.hgetall("{mollifier}:layout")).toMatchObject({
      shardCount: "16",
      reshardTo: "64",
      reshardMoved: "5",
    });
    // Mid-reshard, both layouts are in use: a process of either count starts and follows it; another count refuses.
    expect(await new MollifierBuffer({ redis, shardCount: 64 }).checkLayout()).toMatchObject({
      outcome: "resharding",
      reshard: { from: 16, to: 64, movedShards: 5 },
    });
    const refused = await rejection(new MollifierBuffer({ redis, shardCount: 32 }).checkLayout());
    expect(refused).toMatchObject({ code: "LAYOUT_MISMATCH" });
    expect(String(refused)).toContain("a reshard from 16 to 64 shards is running (5 moved)");
    await running.refreshLayout();
    expect(await observe(running)).toEqual(before);

    // A crash between copying a shard and recording it: the shard stays fenced, its copy is redone.
    const controller = new AbortController();
    const aborted = await rejection(
      reshard({
        redis,
        to: 64,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.step === "copied" && progress.shard === 7) controller.abort(new Error("crash"));
        },
      }),
    );
    expect(aborted).toMatchObject({ message: "crash" });
    expect(await redis.hget("{mollifier}:layout", "reshardMoved")).toBe("7");
    expect(await redis.get(`${shardTags("mollifier", 16)[7]}:fence`)).toBe("moving 16>64");

    // A crash between recording a shard and cleaning it up: the next run finishes it first.
    const second = new AbortController();
    await rejection(
      reshard({
        redis,
        to: 64,
        signal: second.signal,
        onProgress: (progress) => {
          if (progress.step === "recorded" && progress.shard === 9) second.abort(new Error("crash"));
        },
      }),
    );
    expect(await redis.hget("{mollifier}:layout", "reshardMoved")).toBe("10");
    expect(await redis.get(`${shardTags("mollifier", 16)[9]}:fence`)).toBe("moving 16>64");

    expect(await reshard({ redis, to: 64 })).toEqual({ outcome: "completed", from: 16, to: 64 });
    await running.refreshLayout();
    expect(await observe(running)).toEqual(before);
    expect(await running.ackMany(leased)).toEqual(leased.map(() => ({ outcome: "acked" })));
    expect(await reshard({ redis, to: 64 })).toEqual({ outcome: "unchanged", shardCount: 64 });
  });

  test("a key in a shard that no org owns stops the reshard before that shard is touched, and lifts its fence", async ({
    redis,
  }) => {
    const running = new MollifierBuffer({ redis, shardCount: 4 });
    await running.checkLayout();
    const tag = shardTags("mollifier", 4)[2] as string;
    await redis.set(`${tag}:mystery`, "1");
    const error = await rejection(reshard({ redis, to: 8 }));
    expect(error).toMatchObject({ code: "RESHARD_REFUSED" });
    expect(String(error)).toContain(`${tag}:mystery belongs to no org`);
    expect(await redis.exists(`${tag}:fence`)).toBe(0);
    expect(await redis.hget("{mollifier}:layout", "reshardMoved")).toBe("2");
    // The shard is served again, from the old layout.
    const orgId = ORGS.find((org) => running.keys.shardOf(org) === 2) as string;
    expect(await running.accept(input("r", orgId))).toMatchObject({ outcome: "accepted" });
    await redis.del(`${tag}:mystery`);
    expect(await reshard({ redis, to: 8 })).toMatchObject({ outcome: "completed" });
    await running.refreshLayout();
    expect(await running.getEntry({ orgId, envId: "env", runId: "r" })).toMatchObject({ state: "queued" });
  });

  test("after a reshard a process configured for the old count refuses to start, naming the command that migrates", async ({
    redis,
  }) => {
    await new MollifierBuffer({ redis, shardCount: 16 }).checkLayout();
    await reshard({ redis, to: 64 });
    const error = await rejection(new MollifierBuffer({ redis, shardCount: 16 }).checkLayout());
    expect(BufferError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "LAYOUT_MISMATCH" });
    expect(String(error)).toContain("is version 3, tag scheme centre-slot-crc16, 64 shards");
    expect(String(error)).toContain("`mollifier reshard --to 16 --redis <url>`");
  });

  test("two reshards do not run at once, and one to another count waits for the running one to finish", async ({
    redis,
  }) => {
    await new MollifierBuffer({ redis, shardCount: 4 }).checkLayout();
    await redis.set("{mollifier}:reshard-lock", "someone", "PX", 60_000);
    expect(await rejection(reshard({ redis, to: 8 }))).toMatchObject({ code: "RESHARD_REFUSED" });
    // The lock of a run that crashed lapses: the next run goes ahead once it has.
    await redis.set("{mollifier}:reshard-lock", "crashed", "PX", 300);
    await vi.waitFor(
      async () => expect(await reshard({ redis, to: 8, maxShards: 1 })).toMatchObject({ outcome: "paused" }),
      {
        timeout: 10_000,
        interval: 50,
      },
    );
    const other = await rejection(reshard({ redis, to: 12 }));
    expect(other).toMatchObject({ code: "RESHARD_REFUSED" });
    expect(String(other)).toContain("finish it first with `mollifier reshard --to 8`");
    expect(await reshard({ redis, to: 8 })).toMatchObject({ outcome: "completed" });
    // And back: the fences the first reshard left on the 4-shard layout are cleared for the return.
    await new MollifierBuffer({ redis, shardCount: 8 }).accept(input("r", "org-1"));
    expect(await reshard({ redis, to: 4 })).toMatchObject({ outcome: "completed", from: 8, to: 4 });
    const back = new MollifierBuffer({ redis, shardCount: 4 });
    expect(await back.checkLayout()).toMatchObject({ outcome: "matched" });
    expect(await back.getEntry({ orgId: "org-1", envId: "env", runId: "r" })).toMatchObject({
      state: "queued",
    });
  });
});
