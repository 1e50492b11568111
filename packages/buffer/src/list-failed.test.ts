import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };

function input(runId: string, envId = "env"): AcceptInput {
  return { runId, orgId: "org", envId, taskId: "task", payload: { n: runId }, options: {} };
}

/** Accepts, leases and fails each run in turn, a millisecond apart, so their failure times order them. */
async function failInTurn(buffer: MollifierBuffer, runIds: string[], envId = "env"): Promise<void> {
  for (const runId of runIds) {
    await buffer.accept(input(runId, envId));
    const [entry] = (await buffer.lease({ orgId: "org", envId, count: 1 })).entries;
    if (!entry) throw new Error("nothing leased");
    expect(await buffer.fail(entry, { error: `${runId} failed` })).toEqual({ outcome: "failed" });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe.each(redisTopologies)("listFailed on $name", ({ test }) => {
  test("lists an env's FAILED records newest first, a page at a time, without another env's", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await failInTurn(buffer, ["first", "second", "third"]);
    await failInTurn(buffer, ["elsewhere"], "other");

    const page = await buffer.listFailed({ ...env, limit: 2 });
    expect(page.entries.map((entry) => [entry.runId, entry.error, entry.kind])).toEqual([
      ["third", "third failed", "terminal"],
      ["second", "second failed", "terminal"],
    ]);
    expect(page.entries[0]?.snapshot).toMatchObject({ payload: { n: "third" } });
    expect(page.nextCursor).toBeDefined();
    const rest = await buffer.listFailed({ ...env, limit: 2, cursor: page.nextCursor });
    expect(rest).toEqual({ entries: [expect.objectContaining({ runId: "first" })] });
    expect((await buffer.listFailed({ orgId: "org", envId: "other" })).entries.map((e) => e.runId)).toEqual([
      "elsewhere",
    ]);
  });

  test("a discarded record leaves the list, and one whose retention ended is left out", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await failInTurn(buffer, ["kept", "discarded", "expired"]);
    expect(await buffer.discardFailed({ ...env, runId: "discarded" })).toEqual({ outcome: "discarded" });
    await redis.del(buffer.keys.failed("org", "env", "expired"));
    expect((await buffer.listFailed(env)).entries.map((entry) => entry.runId)).toEqual(["kept"]);
  });

  test("the index keeps no more than the retention: older members are trimmed and the key expires", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, failedRetentionMs: 100 });
    await failInTurn(buffer, ["old"]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await failInTurn(buffer, ["new"]);
    const index = buffer.keys.env("org", "env").failedIndex;
    expect(await redis.zrange(index, 0, -1)).toEqual(["new"]);
    expect(await redis.pttl(index)).toBeGreaterThan(0);
    expect((await buffer.listFailed(env)).entries.map((entry) => entry.runId)).toEqual(["new"]);
  });

  test("a limit or cursor out of range is refused before anything is read", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await expect(buffer.listFailed({ ...env, limit: 0 })).rejects.toThrow(/limit must be an integer/);
    await expect(buffer.listFailed({ ...env, cursor: "x" })).rejects.toThrow(/not a listFailed cursor/);
  });
});
