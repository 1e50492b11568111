import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { BufferError } from "./errors.js";
import { LAYOUT_VERSION } from "./layout.js";
import { SHARD_TAG_SCHEME } from "./shard-tags.js";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe.each(redisTopologies)("the stored layout on $name", ({ test }) => {
  test("the first process stores the layout; one with the same configuration matches it", async ({
    redis,
  }) => {
    const first = new MollifierBuffer({ redis, shardCount: 16 });
    const layout = { version: LAYOUT_VERSION, tagScheme: SHARD_TAG_SCHEME, shardCount: 16 };
    expect(await first.checkLayout()).toEqual({ outcome: "created", layout });
    expect(await redis.hgetall("{mollifier}:layout")).toEqual({
      version: String(LAYOUT_VERSION),
      tagScheme: SHARD_TAG_SCHEME,
      shardCount: "16",
    });
    expect(await new MollifierBuffer({ redis }).checkLayout()).toEqual({ outcome: "matched", layout });
  });

  test("a process with another shard count refuses to start, saying what is stored and how to migrate", async ({
    redis,
  }) => {
    const running = new MollifierBuffer({ redis, shardCount: 16 });
    await running.checkLayout();
    await running.accept({ runId: "r1", orgId: "org", envId: "env", taskId: "t", payload: {} });
    const error = await rejection(new MollifierBuffer({ redis, shardCount: 64 }).checkLayout());
    expect(BufferError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ name: "BufferConfigurationError", code: "LAYOUT_MISMATCH" });
    const message = String(error);
    expect(message).toContain(
      `{mollifier}:layout) is version ${LAYOUT_VERSION}, tag scheme ${SHARD_TAG_SCHEME}, 16 shards`,
    );
    expect(message).toContain(
      `configured for version ${LAYOUT_VERSION}, tag scheme centre-slot-crc16, 64 shards`,
    );
    expect(message).toContain("start it with the stored layout (shardCount 16)");
    expect(message).toContain(
      "move the buffer to 64 shards live with `mollifier reshard --to 64 --redis <url>`",
    );
    // The refusal changed nothing: the stored layout and the running buffer's entry are as they were.
    expect(await redis.hget("{mollifier}:layout", "shardCount")).toBe("16");
    expect(await running.depth({ orgId: "org" })).toBe(1);
  });

  test("two processes starting together with different shard counts: one layout is stored, the other refuses", async ({
    redis,
  }) => {
    const results = await Promise.allSettled([
      new MollifierBuffer({ redis, shardCount: 8 }).checkLayout(),
      new MollifierBuffer({ redis, shardCount: 32 }).checkLayout(),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((result) => result.status === "rejected");
    expect(refused?.status === "rejected" ? refused.reason : undefined).toMatchObject({
      code: "LAYOUT_MISMATCH",
    });
  });

  test("layouts of different prefixes are separate", async ({ redis }) => {
    await new MollifierBuffer({ redis, prefix: "a", shardCount: 4 }).checkLayout();
    expect(await new MollifierBuffer({ redis, prefix: "b", shardCount: 8 }).checkLayout()).toMatchObject({
      outcome: "created",
    });
  });

  test("entries left by layout version 1 (no record) refuse the start until drained", async ({ redis }) => {
    await redis.hset("{mollifier:3}:depth", "total", "2");
    const error = await rejection(new MollifierBuffer({ redis }).checkLayout());
    expect(error).toMatchObject({ code: "LAYOUT_MISMATCH" });
    expect(String(error)).toMatch(/2 buffered entries under layout version 1/);
    expect(await redis.exists("{mollifier}:layout")).toBe(0);
    await redis.hset("{mollifier:3}:depth", "total", "0");
    expect(await new MollifierBuffer({ redis }).checkLayout()).toMatchObject({ outcome: "created" });
  });
});
