import { redisTopologies } from "@mollifier/testing";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { LeasedEntry } from "./entry-view.js";

// Random runs of accept / lease / ack / retry / promote interleaved with every
// mutation and idempotency operation, against a reference model: each answer
// must be the model's, and after every step each run's state and mutation
// fields read back exactly as the model has them.

const place = { orgId: "org:1", envId: "env{1}" };
const MAX_TAGS = 4;
// A surrogate pair is a well-formed key; a lone surrogate is refused (below).
const IDEMPOTENCY_KEYS = ["k0", "k1", "k\u{1F600}"];
const LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"] as const;
const MALFORMED_TARGETS = ["cancel", "addTags", "setMetadata", "setDelay", "lookup", "reset"] as const;
const TAG_POOL = ["a", "b", "c", "d", "e", "f"];

type Op =
  | { kind: "accept"; key: number | null; tags: string[] }
  | { kind: "lease" }
  | { kind: "ack" | "retry"; pick: number }
  | { kind: "promote" }
  | { kind: "cancel"; pick: number }
  | { kind: "addTags"; pick: number; tags: string[] }
  | { kind: "setMetadata"; pick: number; stale: boolean }
  | { kind: "setDelay"; pick: number; delayUntil: number }
  | { kind: "lookup" | "reset"; key: number }
  | { kind: "malformed"; target: (typeof MALFORMED_TARGETS)[number]; pick: number; surrogate: string };

const tags = fc.uniqueArray(fc.constantFrom(...TAG_POOL), { maxLength: 4 });
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("accept" as const),
      key: fc.option(fc.nat(IDEMPOTENCY_KEYS.length - 1)),
      tags: fc.uniqueArray(fc.constantFrom(...TAG_POOL), { maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "lease" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constantFrom("ack" as const, "retry" as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "promote" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("addTags" as const), pick: fc.nat(), tags }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("setMetadata" as const), pick: fc.nat(), stale: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setDelay" as const),
      pick: fc.nat(),
      delayUntil: fc.integer({ min: 0, max: 2_000_000_000_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("lookup" as const, "reset" as const),
      key: fc.nat(IDEMPOTENCY_KEYS.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("malformed" as const),
      target: fc.constantFrom(...MALFORMED_TARGETS),
      pick: fc.nat(),
      surrogate: fc.constantFrom(...LONE_SURROGATES),
    }),
  },
);

/** An operation on an id made malformed by a lone surrogate; it must be refused, changing nothing. */
function malformedCall(buffer: MollifierBuffer, runs: ModelRun[], op: Extract<Op, { kind: "malformed" }>) {
  const runId = `${pick(runs, op.pick)?.runId ?? "run:0"}${op.surrogate}`;
  const address = {
    ...place,
    taskId: "task",
    idempotencyKey: `${IDEMPOTENCY_KEYS[op.pick % 3]}${op.surrogate}`,
  };
  switch (op.target) {
    case "cancel":
      return buffer.cancel({ ...place, runId, reason: "x" });
    case "addTags":
      return buffer.addTags({ ...place, runId, tags: ["a"] });
    case "setMetadata":
      return buffer.setMetadata({ ...place, runId, metadata: "{}", expectedVersion: 0 });
    case "setDelay":
      return buffer.setDelay({ ...place, runId, delayUntil: 1 });
    case "lookup":
      return buffer.lookupIdempotency(address);
    case "reset":
      return buffer.resetIdempotency(address);
  }
}

interface ModelRun {
  runId: string;
  key: string | undefined;
  state: "queued" | "leased" | "retrying" | "gone";
  lease?: LeasedEntry;
  snapshotTags: string[];
  addedTags: string[];
  canceledAt?: number;
  metadata?: string;
  metadataVersion: number;
  delayUntil?: number;
  idempotencyReset: boolean;
}

function pick(runs: ModelRun[], index: number): ModelRun | undefined {
  return runs.length === 0 ? undefined : runs[index % runs.length];
}

/** What a mutation answers before its own logic: not_found when gone, busy while leased. */
function blocked(run: ModelRun): { outcome: "not_found" } | { outcome: "busy" } | undefined {
  if (run.state === "gone") return { outcome: "not_found" };
  if (run.state === "leased") return { outcome: "busy" };
  return undefined;
}

async function step(buffer: MollifierBuffer, runs: ModelRun[], index: Map<string, ModelRun>, op: Op) {
  switch (op.kind) {
    case "accept": {
      const key = op.key === null ? undefined : IDEMPOTENCY_KEYS[op.key];
      const runId = `run:${runs.length}`;
      const result = await buffer.accept({
        ...place,
        runId,
        taskId: "task",
        payload: { n: runs.length },
        options: { tags: op.tags, ...(key === undefined ? {} : { idempotencyKey: key }) },
      });
      const holder = key === undefined ? undefined : index.get(key);
      if (holder !== undefined) {
        expect(result).toEqual({ outcome: "duplicate_idempotency", runId: holder.runId });
        return;
      }
      expect(result.outcome).toBe("accepted");
      const run: ModelRun = {
        runId,
        key,
        state: "queued",
        snapshotTags: op.tags,
        addedTags: [],
        metadataVersion: 0,
        idempotencyReset: false,
      };
      runs.push(run);
      if (key !== undefined) index.set(key, run);
      return;
    }
    case "lease": {
      const { entries } = await buffer.lease({ ...place, count: 1 });
      const queued = runs.filter((run) => run.state === "queued");
      expect(entries).toHaveLength(queued.length > 0 ? 1 : 0);
      for (const entry of entries) {
        const run = runs.find((candidate) => candidate.runId === entry.runId);
        expect(run?.state).toBe("queued");
        if (run === undefined) return;
        run.state = "leased";
        run.lease = entry;
        expect(entry.mutations.tags).toEqual(run.addedTags);
        expect(entry.mutations.metadataVersion).toBe(run.metadataVersion);
      }
      return;
    }
    case "ack":
    case "retry": {
      const leased = runs.filter((candidate) => candidate.state === "leased");
      const run = leased[op.pick % Math.max(1, leased.length)];
      if (run?.lease === undefined) return;
      if (op.kind === "ack") {
        expect(await buffer.ack(run.lease)).toEqual({ outcome: "acked" });
        run.state = "gone";
        if (run.key !== undefined && index.get(run.key) === run) index.delete(run.key);
      } else {
        expect((await buffer.retry(run.lease, { error: "x" })).outcome).toBe("scheduled");
        run.state = "retrying";
      }
      run.lease = undefined;
      return;
    }
    case "promote": {
      const retrying = runs.filter((run) => run.state === "retrying");
      expect(await buffer.promoteDueRetries({})).toEqual({
        promoted: retrying.length,
        unavailableShards: [],
      });
      for (const run of retrying) run.state = "queued";
      return;
    }
    case "cancel": {
      const run = pick(runs, op.pick);
      if (run === undefined) return;
      const result = await buffer.cancel({ ...place, runId: run.runId, reason: `r${op.pick}` });
      if (run.state !== "gone" && run.canceledAt !== undefined) {
        expect(result).toEqual({ outcome: "already_canceled", at: run.canceledAt });
        return;
      }
      const expected = blocked(run);
      if (expected !== undefined) {
        expect(result).toEqual(expected);
        return;
      }
      expect(result.outcome).toBe("canceled");
      if (result.outcome === "canceled") run.canceledAt = result.at;
      return;
    }
    case "addTags": {
      const run = pick(runs, op.pick);
      if (run === undefined) return;
      const result = await buffer.addTags({ ...place, runId: run.runId, tags: op.tags });
      const expected = blocked(run);
      if (expected !== undefined) {
        expect(result).toEqual(expected);
        return;
      }
      const before = [...new Set([...run.snapshotTags, ...run.addedTags])];
      const added = op.tags.filter((tag) => !before.includes(tag));
      if (added.length > 0 && before.length + added.length > MAX_TAGS) {
        expect(result).toEqual({ outcome: "too_many_tags", limit: MAX_TAGS });
        return;
      }
      run.addedTags = [...run.addedTags, ...added];
      expect(result).toEqual({ outcome: "updated", tags: [...before, ...added] });
      return;
    }
    case "setMetadata": {
      const run = pick(runs, op.pick);
      if (run === undefined) return;
      const expectedVersion = op.stale ? Math.max(0, run.metadataVersion - 1) : run.metadataVersion;
      const metadata = JSON.stringify({ by: op.pick, at: run.metadataVersion });
      const result = await buffer.setMetadata({ ...place, runId: run.runId, metadata, expectedVersion });
      const expected = blocked(run);
      if (expected !== undefined) {
        expect(result).toEqual(expected);
        return;
      }
      if (expectedVersion !== run.metadataVersion) {
        expect(result).toEqual({ outcome: "version_conflict", version: run.metadataVersion });
        return;
      }
      run.metadataVersion += 1;
      run.metadata = metadata;
      expect(result).toEqual({ outcome: "updated", version: run.metadataVersion });
      return;
    }
    case "setDelay": {
      const run = pick(runs, op.pick);
      if (run === undefined) return;
      const result = await buffer.setDelay({ ...place, runId: run.runId, delayUntil: op.delayUntil });
      const expected = blocked(run);
      if (expected !== undefined) {
        expect(result).toEqual(expected);
        return;
      }
      run.delayUntil = op.delayUntil;
      expect(result).toEqual({ outcome: "updated", delayUntil: op.delayUntil });
      return;
    }
    case "malformed": {
      await expect(malformedCall(buffer, runs, op)).rejects.toMatchObject({ code: "INVALID_INPUT" });
      return;
    }
    case "lookup":
    case "reset": {
      const key = IDEMPOTENCY_KEYS[op.key] ?? "k0";
      const address = { ...place, taskId: "task", idempotencyKey: key };
      const holder = index.get(key);
      if (op.kind === "lookup") {
        expect(await buffer.lookupIdempotency(address)).toEqual(
          holder === undefined ? { outcome: "not_found" } : { outcome: "found", runId: holder.runId },
        );
        return;
      }
      const result = await buffer.resetIdempotency(address);
      if (holder === undefined) {
        expect(result).toEqual({ outcome: "not_found" });
      } else if (holder.state === "leased") {
        expect(result).toEqual({ outcome: "busy" });
      } else {
        expect(result).toEqual({ outcome: "reset", runId: holder.runId });
        holder.idempotencyReset = true;
        index.delete(key);
      }
      return;
    }
  }
}

async function checkAgainstModel(buffer: MollifierBuffer, runs: ModelRun[]) {
  for (const run of runs) {
    const view = await buffer.getEntry({ ...place, runId: run.runId });
    if (run.state === "gone") {
      expect(view).toBeUndefined();
      continue;
    }
    expect(view?.state).toBe(run.state);
    expect(view?.snapshot.options.tags).toEqual(run.snapshotTags);
    const mutations = view?.mutations;
    expect(mutations?.tags).toEqual(run.addedTags);
    expect(mutations?.metadataVersion).toBe(run.metadataVersion);
    expect(mutations?.metadata).toBe(run.metadata);
    expect(mutations?.delayUntil).toBe(run.delayUntil);
    expect(mutations?.canceled?.at).toBe(run.canceledAt);
    expect(mutations?.idempotencyReset).toBe(run.idempotencyReset);
  }
}

describe.each(redisTopologies)("mutations against a reference model on $name", ({ test }) => {
  test("random runs of lifecycle steps, mutations and idempotency operations answer as the model does", async ({
    redis,
  }) => {
    let iteration = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 10, maxLength: 40, size: "max" }), async (ops) => {
        iteration += 1;
        const buffer = new MollifierBuffer({
          redis,
          prefix: `mutations${iteration}`,
          maxTags: MAX_TAGS,
          retry: { baseDelayMs: 0, maxDelayMs: 0, jitter: 0, maxAttempts: 1_000 },
        });
        const runs: ModelRun[] = [];
        const index = new Map<string, ModelRun>();
        for (const op of ops) {
          await step(buffer, runs, index, op);
          await checkAgainstModel(buffer, runs);
        }
      }),
      { numRuns: 20 },
    );
  });
});
