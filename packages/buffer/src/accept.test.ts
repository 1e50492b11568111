import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferError } from "./errors.js";
import type { RedisClient } from "./lua-script.js";
import type { AcceptInput } from "./snapshot.js";

function input(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return {
    runId,
    orgId: "org",
    envId: "env",
    taskId: "task",
    payload: { n: runId },
    options: {},
    ...overrides,
  };
}

async function allKeys(redis: RedisClient): Promise<string[]> {
  const nodes = "nodes" in redis ? redis.nodes("master") : [redis];
  const perNode = await Promise.all(nodes.map((node) => node.keys("*")));
  return perNode.flat().sort();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe.each(redisTopologies)("accept on $name", ({ test }) => {
  test("appends entries to the env queue in order and reports each one's position", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    expect(await buffer.accept(input("a"))).toEqual({ outcome: "accepted", runId: "a", position: 0 });
    expect(await buffer.accept(input("b"))).toEqual({ outcome: "accepted", runId: "b", position: 1 });
    const entry = await buffer.getEntry({ orgId: "org", envId: "env", runId: "b" });
    expect(entry).toMatchObject({
      state: "queued",
      position: 1,
      attempts: 0,
      snapshot: { payload: { n: "b" } },
    });
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(2);
    expect(await buffer.activeEnvs("org")).toEqual(["env"]);
  });

  test("is idempotent on run id: a second accept answers duplicate_run and changes nothing", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("a"));
    expect(await buffer.accept(input("a", { payload: "other" }))).toEqual({
      outcome: "duplicate_run",
      runId: "a",
    });
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(1);
    expect((await buffer.getEntry({ orgId: "org", envId: "env", runId: "a" }))?.snapshot.payload).toEqual({
      n: "a",
    });
  });

  test("is idempotent on (env, task, idempotency key) and names the winner", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const options = { idempotencyKey: "k:{1}" };
    expect(await buffer.accept(input("a", { options }))).toMatchObject({ outcome: "accepted" });
    expect(await buffer.accept(input("b", { options }))).toEqual({
      outcome: "duplicate_idempotency",
      runId: "a",
    });
    // Another task or env with the same key is another idempotency scope.
    expect(await buffer.accept(input("c", { options, taskId: "other" }))).toMatchObject({
      outcome: "accepted",
    });
    expect(await buffer.accept(input("d", { options, envId: "env2" }))).toMatchObject({
      outcome: "accepted",
    });
    expect(await buffer.depth({ orgId: "org" })).toBe(3);
  });

  test("an idempotency index naming an entry that is gone is taken over by the next accept", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await redis.set(buffer.keys.idempotency("org", "env", "task", "k"), "ghost");
    expect(await buffer.accept(input("a", { options: { idempotencyKey: "k" } }))).toMatchObject({
      outcome: "accepted",
    });
    expect(await redis.get(buffer.keys.idempotency("org", "env", "task", "k"))).toBe("a");
  });

  test("answers over_capacity when an env or org depth cap is reached", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, maxEnvDepth: 2, maxOrgDepth: 3 });
    await buffer.accept(input("a"));
    await buffer.accept(input("b"));
    expect(await buffer.accept(input("c"))).toEqual({
      outcome: "over_capacity",
      runId: "c",
      scope: "env",
      depth: 2,
      limit: 2,
    });
    await buffer.accept(input("d", { envId: "env2" }));
    expect(await buffer.accept(input("e", { envId: "env3" }))).toEqual({
      outcome: "over_capacity",
      runId: "e",
      scope: "org",
      depth: 3,
      limit: 3,
    });
  });

  test("takes acceptedAt from Redis TIME and createdAt from the injected clock", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, clock: () => 42 });
    await buffer.accept(input("a"));
    const [seconds] = await redis.time();
    const entry = await buffer.getEntry({ orgId: "org", envId: "env", runId: "a" });
    expect(entry?.snapshot.createdAt).toBe(42);
    expect(Math.abs((entry?.acceptedAt ?? 0) - Number(seconds) * 1000)).toBeLessThan(5_000);
  });

  test("a queued entry is one hash field: the accept time, a bar, then the snapshot JSON", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input("a"));
    await buffer.acceptBatch([input("b")]);
    const entries = buffer.keys.env("org", "env").entries;
    expect((await redis.hkeys(entries)).sort()).toEqual(["a", "b"]);
    const stored = (await redis.hget(entries, "a")) ?? "";
    const entry = await buffer.getEntry({ orgId: "org", envId: "env", runId: "a" });
    expect(stored.startsWith(`${entry?.acceptedAt}|{`)).toBe(true);
    expect(JSON.parse(stored.slice(stored.indexOf("|") + 1))).toMatchObject({
      taskId: "task",
      payload: { n: "a" },
    });
  });

  test("hostile key segments are encoded: they neither alias other keys nor leave the org's slot", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const hostile = input("r:1}{x", { orgId: "a:b{c}ü", envId: "e:nv", options: { idempotencyKey: "}{:" } });
    expect(await buffer.accept(hostile)).toMatchObject({ outcome: "accepted" });
    expect(await buffer.accept(input("r:1}{x", { orgId: "a", envId: "b{c}ü:e:nv" }))).toMatchObject({
      outcome: "accepted",
    });
    expect(await buffer.getEntry({ orgId: "a:b{c}ü", envId: "e:nv", runId: "r:1}{x" })).toMatchObject({
      orgId: "a:b{c}ü",
      runId: "r:1}{x",
    });
    const keys = await allKeys(redis);
    for (const key of keys) expect(key).toMatch(/^\{mollifier:\d+:\d+\}:[A-Za-z0-9_.%:-]+$/);
    expect(await buffer.activeOrgs(buffer.keys.shardOf("a:b{c}ü"))).toContain("a:b{c}ü");
  });

  test("bad input gets a clear error and writes nothing", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis, maxPayloadBytes: 100 });
    await buffer.accept(input("seed"));
    const before = await allKeys(redis);
    const cases: Array<[AcceptInput, string, RegExp]> = [
      [input("big", { payload: "x".repeat(200) }), "PAYLOAD_TOO_LARGE", /at most 100/],
      [input(""), "INVALID_INPUT", /runId/],
      [input("a", { orgId: "" }), "INVALID_INPUT", /orgId/],
      [input("a", { envId: "e".repeat(600) }), "INVALID_INPUT", /envId/],
      [{ ...input("a"), schemaVersion: 7 }, "INVALID_INPUT", /schemaVersion/],
      [input("a", { options: { idempotencyKey: "" } }), "INVALID_INPUT", /idempotencyKey/],
    ];
    for (const [bad, code, message] of cases) {
      const error = await rejection(buffer.accept(bad));
      expect(BufferError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code });
      expect(String(error)).toMatch(message);
      await expect(buffer.acceptBatch([input("ok"), bad])).rejects.toMatchObject({ code });
    }
    expect(await allKeys(redis)).toEqual(before);
    expect(await buffer.depth({ orgId: "org", envId: "env" })).toBe(1);
  });
});
