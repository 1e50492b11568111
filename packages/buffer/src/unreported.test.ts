import { redisTopologies } from "@mollifier/testing";
import { describe, expect, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import type { AcceptInput } from "./snapshot.js";

const env = { orgId: "org", envId: "env" };
const RETRY_MS = 200;

function input(runId: string): AcceptInput {
  return { runId, ...env, taskId: "task", payload: { n: runId }, options: {} };
}

/** Leases `runId` with a short lease and reaps it once expired, as a drainer that then died would. */
async function reapOutOfAttempts(buffer: MollifierBuffer, runId: string): Promise<void> {
  await buffer.accept(input(runId));
  await buffer.lease({ ...env, count: 1, leaseMs: 10 });
  await vi.waitFor(
    async () => expect((await buffer.reapExpiredLeases()).failedEntries).toMatchObject([{ runId }]),
    { timeout: 5_000, interval: 20 },
  );
}

describe.each(redisTopologies)(
  "failures the buffer made itself wait to be reported, on $name",
  ({ test }) => {
    test("a reaped failure nobody settled is handed out once its retry time has passed, to one caller at a time", async ({
      redis,
      createRedisClient,
    }) => {
      const buffer = new MollifierBuffer({
        redis,
        retry: { maxAttempts: 1 },
        failureReportRetryMs: RETRY_MS,
      });
      const other = new MollifierBuffer({
        redis: createRedisClient(),
        retry: { maxAttempts: 1 },
        failureReportRetryMs: RETRY_MS,
      });
      await reapOutOfAttempts(buffer, "poison");
      // The reaper's caller has it: nobody else is handed it before the retry time.
      expect(await buffer.claimUnreportedFailures()).toEqual({
        failures: [],
        expired: 0,
        unavailableShards: [],
      });

      let claims = await Promise.all([buffer.claimUnreportedFailures(), other.claimUnreportedFailures()]);
      await vi.waitFor(
        async () => {
          if (claims.every((claim) => claim.failures.length === 0)) {
            claims = await Promise.all([buffer.claimUnreportedFailures(), other.claimUnreportedFailures()]);
          }
          expect(claims.flatMap((claim) => claim.failures)).toHaveLength(1);
        },
        { timeout: 5_000, interval: 20 },
      );
      expect(claims.flatMap((claim) => claim.failures)).toEqual([
        { ...env, runId: "poison", kind: "attempts_exhausted", attempts: 1, error: expect.any(String) },
      ]);

      expect(await other.settleFailureReport({ ...env, runId: "poison" })).toEqual({ outcome: "settled" });
      expect(await buffer.settleFailureReport({ ...env, runId: "poison" })).toEqual({ outcome: "not_found" });
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS + 50));
      expect((await buffer.claimUnreportedFailures()).failures).toEqual([]);
      // Settling the report leaves the FAILED record for inspection.
      expect(await buffer.getFailed({ ...env, runId: "poison" })).toMatchObject({
        kind: "attempts_exhausted",
      });
    });

    test("an entry failed as invalid at lease waits too; a failure the caller made itself (fail) does not", async ({
      redis,
    }) => {
      const buffer = new MollifierBuffer({ redis, failureReportRetryMs: 1 });
      await buffer.accept(input("bad"));
      await buffer.accept(input("handled"));
      await redis.hset(buffer.keys.env("org", "env").entries, "bad", '1790000000000|{"schemaVersion":99}');
      const { entries, invalid } = await buffer.lease({ ...env, count: 2 });
      expect(invalid).toEqual([{ runId: "bad", error: expect.any(String) }]);
      const [handled] = entries;
      if (!handled) throw new Error("nothing leased");
      expect(await buffer.fail(handled, { error: "the handler gave up" })).toEqual({ outcome: "failed" });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await buffer.claimUnreportedFailures()).failures).toEqual([
        { ...env, runId: "bad", kind: "invalid_entry", attempts: 0, error: expect.stringMatching(/schema/) },
      ]);
    });

    test("a discarded FAILED record drops its report; a report whose record is gone is dropped as expired", async ({
      redis,
    }) => {
      const buffer = new MollifierBuffer({ redis, retry: { maxAttempts: 1 }, failureReportRetryMs: 1 });
      await reapOutOfAttempts(buffer, "discarded");
      await reapOutOfAttempts(buffer, "expired");
      expect(await buffer.discardFailed({ ...env, runId: "discarded" })).toEqual({ outcome: "discarded" });
      // Retention ended: the record is gone while its report still waits.
      await redis.del(buffer.keys.failed("org", "env", "expired"));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await buffer.claimUnreportedFailures()).toEqual({
        failures: [],
        expired: 1,
        unavailableShards: [],
      });
      expect(await redis.zcard(buffer.keys.env("org", "env").unreported)).toBe(0);
    });
  },
);
