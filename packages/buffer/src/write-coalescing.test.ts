import { redisTopologies } from "@mollifier/testing";
import { Cluster, type Redis } from "ioredis";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { RedisClient } from "./lua-script.js";
import type { AcceptInput } from "./snapshot.js";
import { coalesceWritesThisTurn } from "./write-coalescing.js";

function input(runId: string, envId = "env"): AcceptInput {
  return { runId, orgId: "org", envId, taskId: "task", payload: { n: runId }, options: {} };
}

/** Connects the client and, on a cluster, every master's connection (they open lazily). */
async function connectEveryNode(client: RedisClient): Promise<void> {
  await client.ping();
  if (client instanceof Cluster) {
    const masters = client.nodes("master");
    expect(masters.length).toBeGreaterThan(1);
    await Promise.all(masters.map((node) => node.ping()));
  }
}

/** The sockets commands leave on: the client's own, or each master's on a cluster. */
function sockets(client: RedisClient): Array<Redis["stream"]> {
  if (client instanceof Cluster) return client.nodes("master").map((node) => node.stream);
  return [client.stream];
}

describe.each(redisTopologies)("write coalescing on $name", ({ test }) => {
  test("accepts issued in one turn share a corked socket per connection, all answer, and each env keeps its order", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await connectEveryNode(redis);
    const pending = Array.from({ length: 40 }, (_, index) =>
      buffer.accept(input(`run-${index}`, `env-${index % 3}`)),
    );
    // Corked until the end of this turn, then written at once.
    expect(sockets(redis).map((socket) => socket.writableCorked)).toEqual(sockets(redis).map(() => 1));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(sockets(redis).map((socket) => socket.writableCorked)).toEqual(sockets(redis).map(() => 0));
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
    createRedisClient,
  }) => {
    await connectEveryNode(redis);
    coalesceWritesThisTurn(redis);
    coalesceWritesThisTurn(redis);
    expect(sockets(redis).map((socket) => socket.writableCorked)).toEqual(sockets(redis).map(() => 1));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(sockets(redis).map((socket) => socket.writableCorked)).toEqual(sockets(redis).map(() => 0));
    expect(await redis.ping()).toBe("PONG");
    // Not ready yet: a single Redis waits to be asked, a cluster is still discovering its nodes.
    const idle = createRedisClient({ lazyConnect: true });
    expect(idle.status).not.toBe("ready");
    coalesceWritesThisTurn(idle);
    expect(idle.status).not.toBe("ready");
  });
});
