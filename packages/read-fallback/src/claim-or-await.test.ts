import { BufferInputError } from "@mollifier/buffer";
import type { ClaimEvent, DegradedEvent, MollifierRecorder } from "@mollifier/telemetry";
import { noopRecorder } from "@mollifier/telemetry";
import { describe, expect, test } from "vitest";
import { claimTtlMs } from "./claim-or-await.js";
import { fakeBuffer, manualTime, testOptions } from "./fakes.test-support.js";
import { createReadFallback } from "./read-fallback.js";
import type { BufferClaimResult } from "./read-fallback-buffer.js";
import { ReadFallbackError } from "./read-fallback-error.js";

const key = { orgId: "org-1", envId: "env-1", taskId: "task-1", idempotencyKey: "key-1" };

function recording() {
  const claims: ClaimEvent[] = [];
  const degraded: DegradedEvent[] = [];
  const recorder: MollifierRecorder = {
    ...noopRecorder,
    claim: (event) => claims.push(event),
    degraded: (event) => degraded.push(event),
  };
  return { recorder, claims, degraded };
}

/** A claim that answers each reply in turn, then repeats the last, recording requests. */
function scriptedClaims(...replies: BufferClaimResult[]) {
  const requests: Array<{ token: string; ttlMs: number }> = [];
  const claim = async (request: { token: string; ttlMs: number }) => {
    requests.push({ token: request.token, ttlMs: request.ttlMs });
    const reply = replies[Math.min(requests.length - 1, replies.length - 1)];
    if (reply === undefined) throw new Error("no scripted reply");
    return reply;
  };
  return { claim, requests };
}

describe("claimTtlMs", () => {
  const bounds = { minClaimTtlMs: 1_000, maxClaimTtlMs: 60_000 };

  test("is the time left until the key expires", () => {
    expect(claimTtlMs(bounds, 10_000 + 5_000, 10_000)).toBe(5_000);
  });

  test("is clamped to the minimum for a key about to expire or already expired", () => {
    expect(claimTtlMs(bounds, 10_100, 10_000)).toBe(1_000);
    expect(claimTtlMs(bounds, 5_000, 10_000)).toBe(1_000);
  });

  test("is clamped to the maximum for a far expiry, and is the maximum without one", () => {
    expect(claimTtlMs(bounds, 10_000 + 86_400_000, 10_000)).toBe(60_000);
    expect(claimTtlMs(bounds, undefined, 10_000)).toBe(60_000);
  });

  test("treats an expiry that is not a finite number as no expiry", () => {
    expect(claimTtlMs(bounds, Number.NaN, 10_000)).toBe(60_000);
  });
});

describe("claimOrAwait", () => {
  test("a free key is claimed with a token from the injected generator and a TTL from the key's expiry", async () => {
    const time = manualTime();
    const claims = scriptedClaims({ outcome: "claimed" });
    const { recorder, claims: events } = recording();
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ claim: claims.claim }), recorder }, time),
    );
    const result = await readFallback.claimOrAwait({ ...key, idempotencyKeyExpiresAt: time.now + 30_000 });
    expect(result).toEqual({ outcome: "claimed", token: "token-1", ttlMs: 30_000 });
    expect(claims.requests).toEqual([{ token: "token-1", ttlMs: 30_000 }]);
    expect(events).toEqual([{ outcome: "claimed", orgId: "org-1", envId: "env-1" }]);
  });

  test("a waiter polls with the same token until the owner publishes, then answers the owner's run id", async () => {
    const time = manualTime();
    const claims = scriptedClaims(
      { outcome: "pending", ttlMs: 5_000 },
      { outcome: "pending", ttlMs: 4_900 },
      { outcome: "resolved", runId: "run-owner" },
    );
    const { recorder, claims: events } = recording();
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ claim: claims.claim }), recorder }, time),
    );
    expect(await readFallback.claimOrAwait(key)).toEqual({ outcome: "resolved", runId: "run-owner" });
    expect(new Set(claims.requests.map((request) => request.token))).toEqual(new Set(["token-1"]));
    expect(time.sleeps).toHaveLength(2);
    expect(events.map((event) => event.outcome)).toEqual(["pending", "resolved"]);
  });

  test("the owner's claim expiring lets the waiter claim, and the waiter never sleeps past that TTL", async () => {
    const time = manualTime();
    const claims = scriptedClaims({ outcome: "pending", ttlMs: 3 }, { outcome: "claimed" });
    const readFallback = createReadFallback(
      testOptions(
        { buffer: fakeBuffer({ claim: claims.claim }), claimPolling: { initialDelayMs: 100 } },
        time,
      ),
    );
    expect(await readFallback.claimOrAwait(key)).toMatchObject({ outcome: "claimed", token: "token-1" });
    expect(time.sleeps).toEqual([3]);
  });

  test("a claim that stays pending answers timed_out once claimPolling.maxWaitMs has passed, with backoff between polls", async () => {
    const time = manualTime();
    const claims = scriptedClaims({ outcome: "pending", ttlMs: 60_000 });
    const { recorder, claims: events } = recording();
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({ claim: claims.claim }),
          recorder,
          claimPolling: { initialDelayMs: 10, maxDelayMs: 80, jitter: 0, maxWaitMs: 300 },
        },
        time,
      ),
    );
    expect(await readFallback.claimOrAwait(key)).toEqual({ outcome: "timed_out", waitedMs: 300 });
    // 10 + 20 + 40 + 80 + 80 + 70 (the rest of the bound) = 300.
    expect(time.sleeps).toEqual([10, 20, 40, 80, 80, 70]);
    expect(claims.requests).toHaveLength(7);
    expect(events.map((event) => event.outcome)).toEqual(["pending", "timed_out"]);
  });

  test("a Redis error answers degraded (proceed without a claim) and is reported", async () => {
    const failure = new Error("ECONNREFUSED");
    const { recorder, claims: events, degraded } = recording();
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ claim: () => Promise.reject(failure) }), recorder }),
    );
    expect(await readFallback.claimOrAwait(key)).toEqual({
      outcome: "degraded",
      reason: "redis_error",
      error: failure,
    });
    expect(events.map((event) => event.outcome)).toEqual(["degraded"]);
    expect(degraded).toMatchObject([{ component: "claim", reason: "redis_error", error: failure }]);
  });

  test("input the buffer refuses (a BufferError) throws INVALID_INPUT instead of failing open", async () => {
    const refused = new BufferInputError("INVALID_INPUT", "idempotencyKey must be at most 512 bytes");
    const readFallback = createReadFallback(
      testOptions({ buffer: fakeBuffer({ claim: () => Promise.reject(refused) }) }),
    );
    const error = await readFallback.claimOrAwait(key).catch((caught: unknown) => caught);
    expect(ReadFallbackError.isInstance(error) && error.code).toBe("INVALID_INPUT");
    expect(error instanceof Error && error.cause).toBe(refused);
  });

  test.each(["orgId", "envId", "taskId", "idempotencyKey"] as const)(
    "an undefined or empty %s throws INVALID_INPUT before Redis is asked",
    async (field) => {
      const claims = scriptedClaims({ outcome: "claimed" });
      const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer({ claim: claims.claim }) }));
      for (const value of [undefined, ""]) {
        const error = await readFallback
          .claimOrAwait({ ...key, [field]: value as unknown as string })
          .catch((caught: unknown) => caught);
        expect(ReadFallbackError.isInstance(error) && error.code).toBe("INVALID_INPUT");
      }
      expect(claims.requests).toHaveLength(0);
    },
  );
});

describe("publish and release", () => {
  test("publish forwards the owner's token and run id with a TTL from the key's expiry", async () => {
    const time = manualTime();
    const requests: object[] = [];
    const readFallback = createReadFallback(
      testOptions(
        {
          buffer: fakeBuffer({
            publishClaim: async (request) => {
              requests.push(request);
              return { outcome: "published" };
            },
          }),
        },
        time,
      ),
    );
    const result = await readFallback.publish({
      ...key,
      token: "token-9",
      runId: "run-9",
      idempotencyKeyExpiresAt: time.now + 2_500,
    });
    expect(result).toEqual({ outcome: "published" });
    expect(requests).toEqual([{ ...key, token: "token-9", runId: "run-9", ttlMs: 2_500 }]);
  });

  test("release forwards the token, and answers the buffer's not_owner", async () => {
    const requests: object[] = [];
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          releaseClaim: async (request) => {
            requests.push(request);
            return { outcome: "not_owner" };
          },
        }),
      }),
    );
    expect(await readFallback.release({ ...key, token: "token-3" })).toEqual({ outcome: "not_owner" });
    expect(requests).toEqual([{ ...key, token: "token-3" }]);
  });

  test("publish and release answer degraded on a Redis error", async () => {
    const failure = new Error("down");
    const readFallback = createReadFallback(
      testOptions({
        buffer: fakeBuffer({
          publishClaim: () => Promise.reject(failure),
          releaseClaim: () => Promise.reject(failure),
        }),
      }),
    );
    expect(await readFallback.publish({ ...key, token: "t", runId: "r" })).toMatchObject({
      outcome: "degraded",
    });
    expect(await readFallback.release({ ...key, token: "t" })).toMatchObject({ outcome: "degraded" });
  });

  test("publish without a run id throws INVALID_INPUT", async () => {
    const readFallback = createReadFallback(testOptions({ buffer: fakeBuffer() }));
    await expect(
      readFallback.publish({ ...key, token: "t", runId: undefined as unknown as string }),
    ).rejects.toThrow("runId must be a non-empty string");
  });
});
