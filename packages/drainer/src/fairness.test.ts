import { MollifierBuffer } from "@mollifier/buffer";
import { redisTest } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { Drainer } from "./drainer.js";
import { MIN_BUSY_REFRESH_INTERVAL_MS } from "./round-refresh.js";
import { fill, trigger } from "./test-support/buffer-fixtures.js";

const CONCURRENCY = 8;
const QUANTUM = 10;

// Fairness is measured in handler calls, never in wall-clock time.
describe("fair draining on a real buffer", () => {
  redisTest(
    "an org with fifty envs and an org with one env, both backlogged, get equal shares within 10%",
    async ({ redis }) => {
      const buffer = new MollifierBuffer({ redis });
      const wideEnvs = Array.from({ length: 50 }, (_, index) => `env-${index}`);
      await fill(buffer, "wide", wideEnvs, 40);
      await fill(buffer, "narrow", ["env-0"], 2_000);
      const calls: string[] = [];
      const drainer = new Drainer({
        source: buffer,
        concurrency: CONCURRENCY,
        quantum: QUANTUM,
        idleDelayMs: 5,
        handler: async (entry) => {
          calls.push(entry.orgId);
        },
      });
      drainer.start();
      await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(1_000), { timeout: 60_000 });
      await drainer.stop();
      const first = calls.slice(0, 1_000);
      const wide = first.filter((orgId) => orgId === "wide").length;
      const narrow = first.length - wide;
      expect(Math.abs(wide - narrow) / 500).toBeLessThanOrEqual(0.1);
      // Both orgs were still backlogged when the sample ended.
      expect(await buffer.depth({ orgId: "wide" })).toBeGreaterThan(0);
      expect(await buffer.depth({ orgId: "narrow" })).toBeGreaterThan(0);
    },
  );

  redisTest(
    "a light org's single entry is handled within a few handler slots behind 100,000 queued for a heavy org",
    async ({ redis }) => {
      const buffer = new MollifierBuffer({ redis });
      await fill(buffer, "heavy", ["env-a", "env-b", "env-c", "env-d"], 25_000, 5_000);
      expect(await buffer.depth({ orgId: "heavy" })).toBe(100_000);
      const calls: string[] = [];
      const drainer = new Drainer({
        source: buffer,
        concurrency: CONCURRENCY,
        quantum: QUANTUM,
        idleDelayMs: 5,
        // The drainer's clock moves 1 ms per handled entry (a drain of 1,000 entries/s), so the
        // least interval between reads of the active set is a count of handler calls too.
        clock: () => calls.length,
        handler: async (entry) => {
          calls.push(entry.orgId);
        },
      });
      drainer.start();
      await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(200), { timeout: 60_000 });
      expect(await buffer.accept(trigger("light", "env", 1))).toMatchObject({ outcome: "accepted" });
      const before = calls.length;
      await vi.waitFor(() => expect(calls).toContain("light"), { timeout: 60_000 });
      await drainer.stop();
      const slots = calls.indexOf("light") - before;
      // At most the heavy org's turn in progress plus what was already leased, read at most
      // one busy-refresh interval late.
      expect(slots).toBeLessThanOrEqual(2 * (QUANTUM + CONCURRENCY) + MIN_BUSY_REFRESH_INTERVAL_MS);
      expect(await buffer.depth({ orgId: "heavy" })).toBeGreaterThan(90_000);
    },
  );
});
