import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";
import { coalesceWritesThisTurn } from "./write-coalescing.js";

function input(runId: string, envId = "env"): AcceptInput {
  return { runId, orgId: "org", envId, taskId: "task", payload: { n: runId }, options: {} };
}

describe.each(redisTopologies)("write coalescing on $name", ({ name, test }) => {
  test("accepts issued in one turn share a corked socket, all answer, and each env keeps its order", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await redis.ping();
    const pending = Array.from({ length: 40 }, (_, index) =>
      buffer.accept(input(`run-${index}`, `env-${index % 3}`)),
    );
    if (name === "standalone" && "stream" in redis) {
      // Corked until the end of this turn, then written at once.
      expect(redis.stream.writableCorked).toBe(1);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(redis.stream.writableCorked).toBe(0);
    }
    const results = await Promise.all(pending);
    expect(results.every((result) => result.outcome === "accepted")).toBe(true);
    for (const envIndex of [0, 1, 2]) {
      const listed = await buffer.listEntries({ orgId: "org", envId: `env-${envIndex}`, limit: 100 });
      const expected = Array.from({ length: 40 }, (_, index) => index)
        .filter((index) => index % 3 === envIndex)
        .map((index) => `run-${index}`);
      expect(listed.entries.map((entry) => entry.runId)).toEqual(expected);
    }
  });

  test("corking twice in one turn uncorks once, and a client that is not connected is left alone", async ({
    redis,
  }) => {
    await redis.ping();
    coalesceWritesThisTurn(redis);
    coalesceWritesThisTurn(redis);
    if ("stream" in redis) expect(redis.stream.writableCorked).toBe(name === "standalone" ? 1 : 0);
    await new Promise((resolve) => process.nextTick(resolve));
    if ("stream" in redis) expect(redis.stream.writableCorked).toBe(0);
    expect(await redis.ping()).toBe("PONG");
    if ("stream" in redis) {
      const idle = redis.duplicate({ lazyConnect: true });
      expect(idle.status).not.toBe("ready");
      coalesceWritesThisTurn(idle);
      idle.disconnect();
    }
  });
});
