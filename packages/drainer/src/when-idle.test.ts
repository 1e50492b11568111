import { MollifierBuffer } from "@mollifier/buffer";
import { redisTest } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { Drainer } from "./drainer.js";
import { trigger } from "./test-support/buffer-fixtures.js";
import { whenIdle } from "./when-idle.js";

const fast = { idleDelayMs: 5, maintenanceIntervalMs: 10, backoff: { baseMs: 5, maxMs: 50 } } as const;

describe("whenIdle", () => {
  redisTest("resolves idle once every accepted entry is materialised and acknowledged", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    for (let index = 0; index < 20; index++) await buffer.accept(trigger("org", `env${index % 3}`, index));
    const written = new Set<string>();
    const drainer = new Drainer({
      source: buffer,
      handler: async (entry) => {
        written.add(entry.runId);
      },
      ...fast,
    });
    drainer.start();
    try {
      expect(await whenIdle(drainer, buffer, { pollMs: 5 })).toEqual({ outcome: "idle" });
      expect(written.size).toBe(20);
      expect((await buffer.stats()).depth).toBe(0);
    } finally {
      await drainer.stop();
    }
  });

  redisTest("answers timed_out with the last readings when entries stay buffered", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept(trigger("org", "env", 1));
    const stopped = new Drainer({ source: buffer, handler: async () => {} });
    expect(await whenIdle(stopped, buffer, { pollMs: 1, timeoutMs: 0 })).toEqual({
      outcome: "timed_out",
      depth: 1,
      inFlight: 0,
    });
  });

  redisTest("refuses an invalid poll interval before reading anything", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    const drainer = new Drainer({ source: buffer, handler: async () => {} });
    await expect(whenIdle(drainer, buffer, { pollMs: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});
