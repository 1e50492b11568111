import { redisTopologies } from "@mollifier/testing";
import { describe, expect, test } from "vitest";
import { accept } from "./accept.js";
import { MollifierBuffer } from "./buffer.js";
import * as scripts from "./generated/lua-scripts.js";
import { isFencedScript } from "./lua-script.js";
import { fenceKeyOfTag, fenceRefusal, isShardMoved, withFenceKeys } from "./shard-fence.js";

const input = { runId: "r", orgId: "org", envId: "env", taskId: "task", payload: {}, options: {} };

describe("shard fence keys", () => {
  test("each shard a call's keys belong to gets its fence key once, after the call's own keys", () => {
    expect(
      withFenceKeys(["{a:1:2}:entries:o:e", "{a:1:2}:queue:o:e", "{a:3:4}:leases", "{a:1:2}:depth"]),
    ).toEqual([
      "{a:1:2}:entries:o:e",
      "{a:1:2}:queue:o:e",
      "{a:3:4}:leases",
      "{a:1:2}:depth",
      "{a:1:2}:fence",
      "{a:3:4}:fence",
    ]);
    expect(fenceKeyOfTag("{a:1:2}")).toBe("{a:1:2}:fence");
  });

  test("every script that touches a shard checks its fence first; only the layout and the reshard's own scripts do not", () => {
    const all = Object.values(scripts).filter((value) => typeof value === "object" && "body" in value);
    const unfenced = all.filter((script) => !isFencedScript(script.name)).map((script) => script.name);
    expect(unfenced.sort()).toEqual(["reshard-add-total", "reshard-lock", "store-layout"]);
    for (const script of all) {
      expect({ name: script.name, fenced: script.body.includes("MOLLIFIER_RESHARD") }).toEqual({
        name: script.name,
        fenced: isFencedScript(script.name),
      });
    }
  });

  test("a refusal is read from the error however the client wrapped it", () => {
    const reply = new Error("MOLLIFIER_RESHARD moved 16>64");
    expect(fenceRefusal(reply)).toEqual({ state: "moved", reshard: "16>64" });
    expect(
      fenceRefusal({ message: "wrapped", lastNodeError: new Error("MOLLIFIER_RESHARD moving 16>64") }),
    ).toEqual({
      state: "moving",
      reshard: "16>64",
    });
    expect(fenceRefusal(new Error("ERR something else"))).toBeUndefined();
  });
});

describe.each(redisTopologies)("a fenced shard on $name", ({ test }) => {
  test("a call to a shard being moved waits, and goes through once the fence is lifted", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    const fence = fenceKeyOfTag(buffer.keys.env("org", "env").tag);
    await redis.set(fence, "moving 16>64");
    const accepted = buffer.accept(input);
    // Refused, so nothing was written while the fence stood.
    expect(await redis.exists(buffer.keys.env("org", "env").entries)).toBe(0);
    await redis.del(fence);
    expect(await accepted).toMatchObject({ outcome: "accepted" });
  });

  test("discarding a FAILED record waits while its shard is moving, so the copy cannot bring it back", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(input);
    const { entries } = await buffer.lease({ orgId: "org", envId: "env", count: 1 });
    const [entry] = entries;
    if (entry === undefined) throw new Error("nothing was leased");
    await buffer.fail(entry, { error: "failed" });
    const address = { orgId: "org", envId: "env", runId: "r" };
    const fence = fenceKeyOfTag(buffer.keys.env("org", "env").tag);
    await redis.set(fence, "moving 16>64");
    const discarded = buffer.discardFailed(address);
    expect(await redis.exists(buffer.keys.failed("org", "env", "r"))).toBe(1);
    await redis.del(fence);
    expect(await discarded).toEqual({ outcome: "discarded" });
    expect(await buffer.getFailed(address)).toBeUndefined();
  });

  test("a call to a shard that has moved is refused before it writes, with SHARD_MOVED", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis, layoutRefreshMs: 3_600_000 });
    await redis.set(fenceKeyOfTag(buffer.keys.env("org", "env").tag), "moved 16>64");
    const error = await accept(buffer.context, input).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isShardMoved(error)).toBe(true);
    expect(await redis.exists(buffer.keys.env("org", "env").entries)).toBe(0);
  });
});
