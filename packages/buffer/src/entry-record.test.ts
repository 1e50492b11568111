import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect, test, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { LeasedEntry } from "./entry-view.js";
import { ENTRY_FIELDS } from "./generated/entry-record.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };
const packageDir = join(import.meta.dirname, "..");

function input(runId: string, idempotencyKey?: string): AcceptInput {
  const options = idempotencyKey === undefined ? {} : { idempotencyKey };
  return { runId, ...env, taskId: "task", payload: { n: runId }, options };
}

function luaFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((item) => {
    const path = join(directory, item.name);
    if (item.isDirectory()) return luaFiles(path);
    return item.name.endsWith(".lua") ? [path] : [];
  });
}

describe.each(redisTopologies)("the entry record on $name", ({ test }) => {
  test("every operation writes only fields the record defines, every defined field is written, and removal leaves none", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({
      redis,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: 0 },
    });
    const entries = buffer.keys.env(env.orgId, env.envId).entries;
    const runs = ["plain", "keyed", "batch-1", "batch-2", "mutated", "doomed"];
    const suffixes = new Set<string>(ENTRY_FIELDS.map((field) => field.suffix));
    const written = new Set<string>();

    // After every step, each field of the hash is a run's value `<run>` or `<run>:<name>` of a defined field.
    async function expectRecordFields(step: string): Promise<void> {
      for (const field of Object.keys(await redis.hgetall(entries))) {
        const separator = field.indexOf(":");
        const run = separator < 0 ? field : field.slice(0, separator);
        expect(runs, `${step}: field ${field} belongs to no run`).toContain(run);
        if (separator < 0) continue;
        const suffix = field.slice(separator);
        expect(
          suffixes.has(suffix),
          `${step} wrote ${field}, which lua/entry-record.json does not define`,
        ).toBe(true);
        written.add(suffix);
      }
    }
    async function expectGone(step: string, runId: string): Promise<void> {
      const fields = Object.keys(await redis.hgetall(entries));
      expect(
        fields.filter((field) => field === runId || field.startsWith(`${runId}:`)),
        `${step} left fields of ${runId}`,
      ).toEqual([]);
    }
    async function leaseAll(leaseMs: number): Promise<Map<string, LeasedEntry>> {
      const { entries: leased } = await buffer.lease({ ...env, count: 10, leaseMs });
      return new Map(leased.map((entry) => [entry.runId, entry]));
    }
    function held(leased: Map<string, LeasedEntry>, runId: string): LeasedEntry {
      const entry = leased.get(runId);
      if (!entry) throw new Error(`${runId} was not leased`);
      return entry;
    }
    // The reaper moves what has expired; leases of 20 ms are polled for, with a bound.
    async function reapUntil(outcome: "reaped" | "failed", count: number): Promise<void> {
      let done = 0;
      await vi.waitFor(
        async () => {
          done += (await buffer.reapExpiredLeases())[outcome];
          expect(done).toBe(count);
        },
        { timeout: 5_000, interval: 20 },
      );
    }

    await buffer.accept(input("plain"));
    await buffer.accept(input("keyed", "key-1"));
    await buffer.acceptBatch([input("batch-1"), input("batch-2")]);
    await buffer.accept(input("mutated", "key-2"));
    await buffer.accept(input("doomed"));
    await expectRecordFields("accept");

    const mutated = { ...env, runId: "mutated" };
    expect(await buffer.cancel({ ...mutated, reason: "no longer needed" })).toMatchObject({
      outcome: "canceled",
    });
    await expectRecordFields("cancel");
    expect(await buffer.addTags({ ...mutated, tags: ["late"] })).toMatchObject({ outcome: "updated" });
    expect(await buffer.addTags({ ...env, runId: "doomed", tags: ["late"] })).toMatchObject({
      outcome: "updated",
    });
    await expectRecordFields("addTags");
    expect(
      await buffer.setMetadata({ ...mutated, metadata: JSON.stringify({ step: 1 }), expectedVersion: 0 }),
    ).toMatchObject({
      outcome: "updated",
    });
    await expectRecordFields("setMetadata");
    expect(await buffer.setDelay({ ...mutated, delayUntil: 1_000 })).toMatchObject({ outcome: "updated" });
    await expectRecordFields("setDelay");
    expect(await buffer.resetIdempotency({ ...env, taskId: "task", idempotencyKey: "key-2" })).toMatchObject({
      outcome: "reset",
    });
    await expectRecordFields("resetIdempotency");

    const first = await leaseAll(60_000);
    expect([...first.keys()].sort()).toEqual([...runs].sort());
    await expectRecordFields("lease");
    expect(await buffer.extendLease(held(first, "plain"), 60_000)).toMatchObject({ outcome: "extended" });
    await expectRecordFields("extendLease");

    expect(await buffer.ack(held(first, "plain"))).toEqual({ outcome: "acked" });
    await expectGone("ack", "plain");
    expect(await buffer.ackMany([held(first, "mutated"), held(first, "batch-1")])).toEqual([
      { outcome: "acked" },
      { outcome: "acked" },
    ]);
    await expectGone("ackMany", "mutated");
    await expectGone("ackMany", "batch-1");
    expect(await buffer.fail(held(first, "doomed"), { error: "boom" })).toEqual({ outcome: "failed" });
    await expectGone("fail", "doomed");
    await expectRecordFields("ack, ackMany and fail");

    for (const runId of ["keyed", "batch-2"]) {
      expect(await buffer.retry(held(first, runId), { error: "boom" })).toMatchObject({
        outcome: "scheduled",
      });
    }
    await expectRecordFields("retry");
    let promoted = 0;
    await vi.waitFor(
      async () => {
        promoted += (await buffer.promoteDueRetries()).promoted;
        expect(promoted).toBe(2);
      },
      { timeout: 5_000, interval: 20 },
    );
    await expectRecordFields("promoteDueRetries");

    const released = await leaseAll(60_000);
    for (const runId of ["keyed", "batch-2"]) {
      expect(await buffer.release(held(released, runId))).toEqual({ outcome: "released" });
    }
    await expectRecordFields("release");

    expect((await leaseAll(20)).size).toBe(2);
    await reapUntil("reaped", 2);
    await expectRecordFields("reapExpiredLeases (reaped)");
    expect((await leaseAll(20)).size).toBe(2);
    await reapUntil("failed", 2);
    await expectGone("reapExpiredLeases (failed)", "keyed");
    await expectGone("reapExpiredLeases (failed)", "batch-2");

    expect(await redis.exists(entries)).toBe(0);
    // The record names no field that no operation writes.
    expect([...written].sort()).toEqual([...suffixes].sort());
  });
});

describe("the Lua scripts and the entry record", () => {
  const scripts = luaFiles(join(packageDir, "lua"));
  const generated = readFileSync(join(packageDir, "src", "generated", "entry-record.lua"), "utf8");
  const constants = new Set([...generated.matchAll(/^local (F_[A-Z_]+)\s*=/gm)].map((match) => match[1]));

  test("no script spells an entry field suffix as a string literal: they come from the entry-record include", () => {
    expect(scripts.length).toBeGreaterThan(0);
    const literals = scripts.flatMap((path) =>
      [...readFileSync(path, "utf8").matchAll(/(['"])(:[A-Za-z][A-Za-z0-9]*)\1/g)].map(
        (match) => `${path.slice(packageDir.length + 1)}: ${match[0]}`,
      ),
    );
    expect(literals).toEqual([]);
  });

  test("every F_ constant a script uses is one the entry record defines", () => {
    expect(constants.size).toBe(ENTRY_FIELDS.length);
    const unknown = scripts.flatMap((path) =>
      [...readFileSync(path, "utf8").matchAll(/\bF_[A-Z_]+\b/g)]
        .map((match) => match[0])
        .filter((name) => !constants.has(name))
        .map((name) => `${path.slice(packageDir.length + 1)}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});
