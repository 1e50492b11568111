import { redisTopologies } from "@mollifier/testing";
import fc from "fast-check";
import { describe, expect } from "vitest";
import type { AcceptResult } from "./accept.js";
import { MollifierBuffer } from "./buffer.js";
import type { LeasedEntry } from "./entry-view.js";
import type { RedisClient } from "./lua-script.js";
import { reshard } from "./reshard.js";
import { shardTags } from "./shard-tags.js";
import type { AcceptInput } from "./snapshot.js";

// A reference model of the buffer, checked against Redis after every step of
// random accept / lease / ack / retry / fail / expire / reap / promote runs,
// with ids holding lone surrogates (refused) and other processes starting on
// the same prefix with the same or another shard count (joined or refused), and live reshards
// to other shard counts (completed, or stopped part-way and resumed) between any two steps.

const ENVS = [
  { orgId: "o1", envId: "e1" },
  { orgId: "o1", envId: "e:2" },
  { orgId: "o:2{x}", envId: "e1" },
] as const;
const MAX_ATTEMPTS = 3;
// Lone surrogates: UTF-8 has no bytes for them, so ids holding one are refused
// (they used to alias, all encoding to U+FFFD).
const LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"] as const;
const MALFORMED_FIELDS = ["runId", "orgId", "envId", "idempotencyKey"] as const;

type Op =
  | {
      kind: "accept";
      batch: boolean;
      items: Array<{ env: number; duplicate: boolean; pick: number; idempotencyKey: string | null }>;
    }
  | {
      kind: "acceptMalformed";
      batch: boolean;
      env: number;
      field: (typeof MALFORMED_FIELDS)[number];
      surrogate: string;
    }
  | { kind: "lease"; env: number; count: number }
  | { kind: "ack" | "retry" | "fail"; pick: number }
  | { kind: "expire"; pick: number }
  | { kind: "reap" }
  | { kind: "promote" }
  | { kind: "startProcess"; shardCount: number }
  | { kind: "reshard"; to: number; maxShards: number | null };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("accept" as const),
      batch: fc.boolean(),
      items: fc.array(
        fc.record({
          env: fc.nat(2),
          duplicate: fc.boolean(),
          pick: fc.nat(),
          idempotencyKey: fc.option(fc.constantFrom("k1", "k:2")),
        }),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("acceptMalformed" as const),
      batch: fc.boolean(),
      env: fc.nat(2),
      field: fc.constantFrom(...MALFORMED_FIELDS),
      surrogate: fc.constantFrom(...LONE_SURROGATES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("lease" as const),
      env: fc.nat(2),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom("ack" as const, "retry" as const, "fail" as const),
      pick: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("expire" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: "reap" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "promote" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("startProcess" as const),
      shardCount: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("reshard" as const),
      to: fc.integer({ min: 1, max: 4 }),
      maxShards: fc.option(fc.integer({ min: 1, max: 2 })),
    }),
  },
);

type State = "queued" | "leased" | "retrying" | "acked" | "failed";

interface ModelEntry {
  env: number;
  runId: string;
  member: string;
  state: State;
  attempts: number;
  token?: string;
  expired: boolean;
  dueAt: number;
  failedEver: boolean;
  idempotencyKey: string | null;
}

class Model {
  readonly queues: string[][] = ENVS.map(() => []);
  readonly entries = new Map<string, ModelEntry>();
  readonly handles: LeasedEntry[] = [];
  /** `<env>/<idempotency key>` → the run the index names. */
  readonly idempotency = new Map<string, string>();
  private counter = 0;

  constructor(readonly buffer: MollifierBuffer) {}

  key(env: number, runId: string): string {
    return `${env}/${runId}`;
  }

  // Every third run id holds a surrogate pair (well-formed, so accepted).
  freshRunId(): string {
    this.counter += 1;
    return this.counter % 3 === 0 ? `r${this.counter}\u{1F600}` : `r${this.counter}`;
  }

  inState(state: State): ModelEntry[] {
    return [...this.entries.values()].filter((entry) => entry.state === state);
  }

  buffered(entry: ModelEntry): boolean {
    return entry.state === "queued" || entry.state === "leased" || entry.state === "retrying";
  }

  // ack and fail delete the index only while it still names their run.
  release(entry: ModelEntry): void {
    const indexKey = `${entry.env}/${entry.idempotencyKey}`;
    if (entry.idempotencyKey !== null && this.idempotency.get(indexKey) === entry.runId) {
      this.idempotency.delete(indexKey);
    }
  }

  shardOf(env: number): number {
    return this.buffer.keys.shardOf(ENVS[env]?.orgId ?? "");
  }

  // Sweeps read each shard's due members in (score, member) order and push each to its queue head.
  requeue(due: ModelEntry[], score: (entry: ModelEntry) => number, attemptsDelta: number): void {
    const byShard = new Map<number, ModelEntry[]>();
    for (const entry of due)
      byShard.set(this.shardOf(entry.env), [...(byShard.get(this.shardOf(entry.env)) ?? []), entry]);
    for (const entries of byShard.values()) {
      entries.sort((a, b) => score(a) - score(b) || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
      for (const entry of entries) {
        entry.state = "queued";
        entry.attempts += attemptsDelta;
        entry.token = undefined;
        entry.expired = false;
        this.queues[entry.env]?.unshift(entry.runId);
      }
    }
  }
}

async function apply(model: Model, redis: RedisClient, op: Op): Promise<void> {
  const { buffer } = model;
  switch (op.kind) {
    case "accept": {
      // The expected result of each item, in order, as the model sees it.
      const inputs: AcceptInput[] = [];
      const expected: AcceptResult[] = [];
      for (const item of op.items) {
        const envEntries = [...model.entries.values()].filter((entry) => entry.env === item.env);
        const existing =
          item.duplicate && envEntries.length > 0 ? envEntries[item.pick % envEntries.length] : undefined;
        const runId = existing?.runId ?? model.freshRunId();
        const address = ENVS[item.env] ?? ENVS[0];
        const options = item.idempotencyKey === null ? {} : { idempotencyKey: item.idempotencyKey };
        inputs.push({ ...address, runId, taskId: "task", payload: { runId }, options });
        if (existing && model.buffered(existing)) {
          expected.push({ outcome: "duplicate_run", runId });
          continue;
        }
        const indexKey = `${item.env}/${item.idempotencyKey}`;
        const winner = item.idempotencyKey === null ? undefined : model.idempotency.get(indexKey);
        const winnerEntry = winner === undefined ? undefined : model.entries.get(model.key(item.env, winner));
        if (winner !== undefined && winnerEntry && model.buffered(winnerEntry)) {
          expected.push({ outcome: "duplicate_idempotency", runId: winner });
          continue;
        }
        if (item.idempotencyKey !== null) model.idempotency.set(indexKey, runId);
        const queue = model.queues[item.env] ?? [];
        expected.push({ outcome: "accepted", runId, position: queue.length });
        queue.push(runId);
        model.entries.set(model.key(item.env, runId), {
          env: item.env,
          runId,
          member: buffer.keys.entryMember(address.orgId, address.envId, runId),
          state: "queued",
          attempts: 0,
          expired: false,
          dueAt: 0,
          failedEver: existing?.failedEver ?? false,
          idempotencyKey: item.idempotencyKey,
        });
      }
      if (op.batch) {
        expect(await buffer.acceptBatch(inputs)).toEqual(expected);
      } else {
        for (const [index, input] of inputs.entries())
          expect(await buffer.accept(input)).toEqual(expected[index]);
      }
      return;
    }
    case "acceptMalformed": {
      // Refused before anything is written; `check` then finds the model unchanged.
      const address = ENVS[op.env] ?? ENVS[0];
      const valid: AcceptInput = { ...address, runId: "ok", taskId: "task", payload: {}, options: {} };
      const malformed: AcceptInput =
        op.field === "idempotencyKey"
          ? { ...valid, runId: model.freshRunId(), options: { idempotencyKey: `k${op.surrogate}` } }
          : { ...valid, runId: model.freshRunId(), [op.field]: `${valid[op.field]}${op.surrogate}` };
      const attempt = op.batch
        ? buffer.acceptBatch([{ ...valid, runId: model.freshRunId() }, malformed])
        : buffer.accept(malformed);
      await expect(attempt).rejects.toMatchObject({ code: "INVALID_INPUT" });
      return;
    }
    case "lease": {
      const address = ENVS[op.env] ?? ENVS[0];
      const { entries, invalid } = await buffer.lease({ ...address, count: op.count });
      const queue = model.queues[op.env] ?? [];
      const expected = queue.splice(0, op.count);
      expect(invalid).toEqual([]);
      expect(entries.map((entry) => entry.runId)).toEqual(expected);
      for (const leased of entries) {
        const entry = model.entries.get(model.key(op.env, leased.runId));
        if (!entry) throw new Error("leased an unknown entry");
        expect(leased.attempts).toBe(entry.attempts);
        entry.state = "leased";
        entry.token = leased.leaseToken;
        model.handles.push(leased);
      }
      return;
    }
    case "ack":
    case "retry":
    case "fail": {
      const handle = model.handles[op.pick % Math.max(1, model.handles.length)];
      if (!handle) return;
      const entry = model.entries.get(
        model.key(
          ENVS.findIndex((env) => env.envId === handle.envId && env.orgId === handle.orgId),
          handle.runId,
        ),
      );
      if (!entry) throw new Error("a handle of an unknown entry");
      const held = entry.state === "leased" && entry.token === handle.leaseToken;
      if (op.kind === "ack") {
        expect(await buffer.ack(handle)).toEqual(held ? { outcome: "acked" } : { outcome: "lease_lost" });
        if (held) {
          entry.state = "acked";
          model.release(entry);
        }
      } else if (op.kind === "fail") {
        expect(await buffer.fail(handle, { error: "x" })).toEqual(
          held ? { outcome: "failed" } : { outcome: "lease_lost" },
        );
        if (held) {
          entry.state = "failed";
          entry.failedEver = true;
          model.release(entry);
        }
      } else {
        const result = await buffer.retry({ ...handle, attempts: entry.attempts }, { error: "x" });
        if (!held) {
          expect(result).toEqual({ outcome: "lease_lost" });
        } else if (entry.attempts + 1 >= MAX_ATTEMPTS) {
          expect(result).toEqual({ outcome: "exhausted", attempts: entry.attempts + 1 });
        } else {
          expect(result).toMatchObject({ outcome: "scheduled", attempts: entry.attempts + 1 });
          entry.state = "retrying";
          entry.attempts += 1;
          entry.token = undefined;
          entry.expired = false;
          entry.dueAt = result.outcome === "scheduled" ? result.dueAt : 0;
        }
      }
      return;
    }
    case "expire": {
      const leased = model.inState("leased");
      const entry = leased[op.pick % Math.max(1, leased.length)];
      if (!entry) return;
      // A crashed consumer: its lease deadline is in the past.
      const address = ENVS[entry.env] ?? ENVS[0];
      await redis.zadd(buffer.keys.env(address.orgId, address.envId).leases, "XX", 0, entry.member);
      entry.expired = true;
      return;
    }
    case "reap": {
      const expired = model.inState("leased").filter((entry) => entry.expired);
      // An expiry that uses up the attempts fails the entry, as retry's exhausted + fail would.
      const exhausted = expired.filter((entry) => entry.attempts + 1 >= MAX_ATTEMPTS);
      const due = expired.filter((entry) => entry.attempts + 1 < MAX_ATTEMPTS);
      const result = await buffer.reapExpiredLeases();
      expect(result).toMatchObject({ reaped: due.length, failed: exhausted.length });
      expect(result.failedEntries.map((failure) => failure.runId).sort()).toEqual(
        exhausted.map((entry) => entry.runId).sort(),
      );
      for (const entry of exhausted) {
        entry.state = "failed";
        entry.failedEver = true;
        entry.token = undefined;
        entry.expired = false;
        model.release(entry);
      }
      model.requeue(due, () => 0, 1);
      return;
    }
    case "startProcess": {
      // Another process on the same prefix: with the fleet's shard count it joins; with another it
      // is refused at start, before it could read or write a key (`check` then finds nothing changed).
      const other = new MollifierBuffer({ redis, prefix: buffer.keys.prefix, shardCount: op.shardCount });
      const { shardCount, reshardTo } = buffer.keys.routing;
      if (reshardTo === undefined && op.shardCount === shardCount) {
        expect(await other.checkLayout()).toMatchObject({ outcome: "matched" });
      } else if (reshardTo !== undefined && (op.shardCount === shardCount || op.shardCount === reshardTo)) {
        // A reshard is half-way: a process of either count joins it.
        expect(await other.checkLayout()).toMatchObject({ outcome: "resharding" });
      } else {
        await expect(other.checkLayout()).rejects.toMatchObject({ code: "LAYOUT_MISMATCH" });
      }
      return;
    }
    case "reshard": {
      // A live reshard (maybe stopped after a shard or two) moves keys, never entries: the model
      // does not change, and `check` then reads every key through the new routing.
      const { prefix } = buffer.keys;
      const { shardCount: from, reshardTo, movedShards = 0 } = buffer.keys.routing;
      const sharesTags = shardTags(prefix, op.to).some((tag) => shardTags(prefix, from).includes(tag));
      const run = reshard({
        redis,
        prefix,
        to: op.to,
        ...(op.maxShards === null ? {} : { maxShards: op.maxShards }),
      });
      if (
        (reshardTo !== undefined && reshardTo !== op.to) ||
        (reshardTo === undefined && op.to !== from && sharesTags)
      ) {
        await expect(run).rejects.toMatchObject({ code: "RESHARD_REFUSED" });
      } else if (reshardTo === undefined && op.to === from) {
        expect(await run).toEqual({ outcome: "unchanged", shardCount: from });
      } else if (op.maxShards !== null && op.maxShards < from - movedShards) {
        expect(await run).toEqual({
          outcome: "paused",
          from,
          to: op.to,
          movedShards: movedShards + op.maxShards,
        });
      } else {
        expect(await run).toEqual({ outcome: "completed", from, to: op.to });
      }
      await buffer.refreshLayout();
      return;
    }
    case "promote": {
      const due = model.inState("retrying");
      expect(await buffer.promoteDueRetries()).toEqual({ promoted: due.length, unavailableShards: [] });
      model.requeue(due, (entry) => entry.dueAt, 0);
      return;
    }
  }
}

async function check(model: Model, redis: RedisClient): Promise<void> {
  const { buffer } = model;
  expect(await redis.hget(buffer.keys.layout(), "shardCount")).toBe(String(buffer.keys.shardCount));
  for (const [index, address] of ENVS.entries()) {
    const keys = buffer.keys.env(address.orgId, address.envId);
    const queue = model.queues[index] ?? [];
    expect(await redis.lrange(keys.queue, 0, -1)).toEqual(queue.map((runId) => encodeURIComponent(runId)));
    const buffered = [...model.entries.values()].filter(
      (entry) => entry.env === index && model.buffered(entry),
    );
    expect(await buffer.depth(address)).toBe(buffered.length);
    expect((await buffer.activeEnvs(address.orgId)).includes(address.envId)).toBe(queue.length > 0);
  }
  const activeSet = await buffer.activeSet();
  for (const [index, address] of ENVS.entries()) {
    const listed = activeSet.get(address.orgId)?.includes(address.envId) ?? false;
    expect(listed).toBe((model.queues[index]?.length ?? 0) > 0);
  }
  for (const orgId of new Set(ENVS.map((env) => env.orgId))) {
    const active = ENVS.some((env, index) => env.orgId === orgId && (model.queues[index]?.length ?? 0) > 0);
    expect(activeSet.has(orgId)).toBe(active);
    expect((await buffer.activeOrgs(buffer.keys.shardOf(orgId))).includes(orgId)).toBe(active);
    const buffered = [...model.entries.values()].filter(
      (entry) => ENVS[entry.env]?.orgId === orgId && model.buffered(entry),
    );
    expect(await buffer.depth({ orgId })).toBe(buffered.length);
  }
  for (const [index, address] of ENVS.entries()) {
    for (const key of ["k1", "k:2"]) {
      const indexed = await redis.get(buffer.keys.idempotency(address.orgId, address.envId, "task", key));
      expect(indexed === null ? undefined : decodeURIComponent(indexed)).toBe(
        model.idempotency.get(`${index}/${key}`),
      );
    }
  }
  const leases: string[] = [];
  const retries: string[] = [];
  for (const shard of buffer.shards()) {
    leases.push(...(await redis.zrange(buffer.keys.shard(shard).leases, 0, -1)));
    retries.push(...(await redis.zrange(buffer.keys.shard(shard).retries, 0, -1)));
  }
  expect(leases.sort()).toEqual(
    model
      .inState("leased")
      .map((entry) => entry.member)
      .sort(),
  );
  expect(retries.sort()).toEqual(
    model
      .inState("retrying")
      .map((entry) => entry.member)
      .sort(),
  );
  // Every entry is in exactly the state the model says, with no copy anywhere else.
  for (const entry of model.entries.values()) {
    const address = { ...(ENVS[entry.env] ?? ENVS[0]), runId: entry.runId };
    const view = await buffer.getEntry(address);
    if (model.buffered(entry)) {
      expect(view).toMatchObject({ state: entry.state, attempts: entry.attempts });
    } else {
      expect(view).toBeUndefined();
    }
    expect((await buffer.getFailed(address)) !== undefined).toBe(entry.failedEver);
  }
}

describe.each(redisTopologies)("the buffer against a reference model on $name", ({ test }) => {
  test("random accept/acceptBatch/lease/ack/retry/fail/reap/promote runs, malformed ids, processes with other shard counts and live reshards never lose, duplicate or reorder an entry", async ({
    redis,
  }) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 5, maxLength: 40, size: "max" }), async (ops) => {
        run += 1;
        const buffer = new MollifierBuffer({
          redis,
          prefix: `model${run}`,
          shardCount: 2,
          leaseMs: 600_000,
          retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 0, maxDelayMs: 0, jitter: 0 },
        });
        expect(await buffer.checkLayout()).toMatchObject({ outcome: "created" });
        const model = new Model(buffer);
        for (const op of ops) {
          await apply(model, redis, op);
          await check(model, redis);
        }
      }),
      { numRuns: 30 },
    );
  });
});
