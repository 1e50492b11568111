import { type RedisClient, redisTopologies } from "@mollifier/testing";
import { describe, expect, test, vi } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import {
  DEFAULT_MAX_CLAIM_TTL_MS,
  DEFAULT_MIN_CLAIM_TTL_MS,
  resolveBufferOptions,
} from "./buffer-options.js";
import { type ClaimAddress, clampClaimTtl } from "./claims.js";
import { BufferError } from "./errors.js";
import { BufferKeys } from "./keys.js";

const keys = new BufferKeys({ shardCount: 4 });
const address: ClaimAddress = {
  orgId: "org_1",
  envId: "env_1",
  taskId: "send-email",
  idempotencyKey: "key-1",
};

function bufferWith(redis: RedisClient, ttl: { min?: number; max?: number } = {}): MollifierBuffer {
  return new MollifierBuffer({
    redis,
    shardCount: keys.shardCount,
    ...(ttl.min === undefined ? {} : { minClaimTtlMs: ttl.min }),
    ...(ttl.max === undefined ? {} : { maxClaimTtlMs: ttl.max }),
  });
}

describe("clampClaimTtl", () => {
  test("raises short TTLs to the minimum, lowers long ones to the maximum and rounds up to whole ms", () => {
    expect(clampClaimTtl(1, 1_000, 60_000)).toBe(1_000);
    expect(clampClaimTtl(-5, 1_000, 60_000)).toBe(1_000);
    expect(clampClaimTtl(3_600_000, 1_000, 60_000)).toBe(60_000);
    expect(clampClaimTtl(1_500.2, 1_000, 60_000)).toBe(1_501);
  });

  test("rejects a TTL that is not a finite number", () => {
    expect(() => clampClaimTtl(Number.NaN, 1_000, 60_000)).toThrow(/ttlMs/);
    expect(() => clampClaimTtl(Number.POSITIVE_INFINITY, 1_000, 60_000)).toThrow(/ttlMs/);
  });
});

describe("claim TTL options", () => {
  test("default to 1 s and 60 s and fail early when the maximum is below the minimum", () => {
    const redis = {} as unknown as RedisClient;
    expect(resolveBufferOptions({ redis }).options).toMatchObject({
      minClaimTtlMs: DEFAULT_MIN_CLAIM_TTL_MS,
      maxClaimTtlMs: DEFAULT_MAX_CLAIM_TTL_MS,
    });
    expect(DEFAULT_MIN_CLAIM_TTL_MS).toBe(1_000);
    expect(DEFAULT_MAX_CLAIM_TTL_MS).toBe(60_000);
    expect(() => resolveBufferOptions({ redis, minClaimTtlMs: 0 })).toThrow(/minClaimTtlMs/);
    expect(() => resolveBufferOptions({ redis, minClaimTtlMs: 5_000, maxClaimTtlMs: 1_000 })).toThrow(
      /maxClaimTtlMs/,
    );
  });
});

describe.each(redisTopologies)("claims on $name", ({ test }) => {
  test("the first claimant gets claimed, the next one pending with the remaining TTL", async ({ redis }) => {
    const claims = bufferWith(redis);
    expect(await claims.claim({ ...address, token: "a", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
    const pending = await claims.claim({ ...address, token: "b", ttlMs: 10_000 });
    expect(pending.outcome).toBe("pending");
    if (pending.outcome !== "pending") return;
    expect(pending.ttlMs).toBeGreaterThan(0);
    expect(pending.ttlMs).toBeLessThanOrEqual(10_000);
  });

  test("claiming again with the owner's own token answers claimed", async ({ redis }) => {
    const claims = bufferWith(redis);
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect(await claims.claim({ ...address, token: "a", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
  });

  test("readClaim answers none, then pending, then resolved with the published run id", async ({ redis }) => {
    const claims = bufferWith(redis);
    expect(await claims.readClaim(address)).toEqual({ outcome: "none" });
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect((await claims.readClaim(address)).outcome).toBe("pending");
    await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 });
    expect(await claims.readClaim(address)).toEqual({ outcome: "resolved", runId: "run_1" });
  });

  test("after the owner publishes, every claimant gets resolved with the winner's run id", async ({
    redis,
  }) => {
    const claims = bufferWith(redis);
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect(await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 })).toEqual({
      outcome: "published",
    });
    expect(await claims.claim({ ...address, token: "b", ttlMs: 10_000 })).toEqual({
      outcome: "resolved",
      runId: "run_1",
    });
    expect(await claims.claim({ ...address, token: "a", ttlMs: 10_000 })).toEqual({
      outcome: "resolved",
      runId: "run_1",
    });
  });

  test("a published run id never changes: the same run publishes again, another run is refused", async ({
    redis,
  }) => {
    const claims = bufferWith(redis);
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 });
    expect(await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 })).toEqual({
      outcome: "published",
    });
    expect(await claims.publishClaim({ ...address, token: "a", runId: "run_2", ttlMs: 10_000 })).toEqual({
      outcome: "not_owner",
    });
    expect(await claims.readClaim(address)).toEqual({ outcome: "resolved", runId: "run_1" });
  });

  test("publish and release without a claim answer not_owner and write nothing", async ({ redis }) => {
    const claims = bufferWith(redis);
    expect(await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 })).toEqual({
      outcome: "not_owner",
    });
    expect(await claims.releaseClaim({ ...address, token: "a" })).toEqual({ outcome: "not_owner" });
    expect(
      await redis.exists(keys.claim(address.orgId, address.envId, address.taskId, address.idempotencyKey)),
    ).toBe(0);
  });

  test("another token can neither publish nor release the owner's claim", async ({ redis }) => {
    const claims = bufferWith(redis);
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect(await claims.publishClaim({ ...address, token: "b", runId: "run_b", ttlMs: 10_000 })).toEqual({
      outcome: "not_owner",
    });
    expect(await claims.releaseClaim({ ...address, token: "b" })).toEqual({ outcome: "not_owner" });
    expect((await claims.readClaim(address)).outcome).toBe("pending");
    expect(await claims.publishClaim({ ...address, token: "a", runId: "run_a", ttlMs: 10_000 })).toEqual({
      outcome: "published",
    });
  });

  test("the owner's release lets the next claimant win at once", async ({ redis }) => {
    const claims = bufferWith(redis);
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect(await claims.releaseClaim({ ...address, token: "a" })).toEqual({ outcome: "released" });
    expect(await claims.readClaim(address)).toEqual({ outcome: "none" });
    expect(await claims.claim({ ...address, token: "b", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
  });

  test("an expired claim lets the next claimant win, and the stale owner can neither publish nor release", async ({
    redis,
  }) => {
    const claims = bufferWith(redis, { min: 50, max: 60_000 });
    expect(await claims.claim({ ...address, token: "stale", ttlMs: 50 })).toEqual({ outcome: "claimed" });
    await vi.waitFor(async () => expect(await claims.readClaim(address)).toEqual({ outcome: "none" }), {
      timeout: 5_000,
      interval: 20,
    });
    expect(await claims.claim({ ...address, token: "fresh", ttlMs: 10_000 })).toEqual({
      outcome: "claimed",
    });

    expect(
      await claims.publishClaim({ ...address, token: "stale", runId: "run_stale", ttlMs: 10_000 }),
    ).toEqual({
      outcome: "not_owner",
    });
    expect(await claims.releaseClaim({ ...address, token: "stale" })).toEqual({ outcome: "not_owner" });
    expect((await claims.readClaim(address)).outcome).toBe("pending");

    await claims.publishClaim({ ...address, token: "fresh", runId: "run_fresh", ttlMs: 10_000 });
    expect(await claims.releaseClaim({ ...address, token: "stale" })).toEqual({ outcome: "not_owner" });
    expect(await claims.readClaim(address)).toEqual({ outcome: "resolved", runId: "run_fresh" });
  });

  test("of 50 concurrent claimants on one key from several clients exactly one is claimed", async ({
    redis,
    createRedisClient,
  }) => {
    const clients = [
      redis,
      createRedisClient(),
      createRedisClient(),
      createRedisClient(),
      createRedisClient(),
    ];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        bufferWith(clients[index % clients.length] ?? redis).claim({
          ...address,
          token: `token-${index}`,
          ttlMs: 10_000,
        }),
      ),
    );
    expect(results.filter((result) => result.outcome === "claimed")).toHaveLength(1);
    expect(results.filter((result) => result.outcome === "pending")).toHaveLength(49);
  });

  test("the claim TTL is clamped into [minClaimTtlMs, maxClaimTtlMs] on claim and on publish", async ({
    redis,
  }) => {
    const claims = bufferWith(redis, { min: 5_000, max: 20_000 });
    const key = keys.claim(address.orgId, address.envId, address.taskId, address.idempotencyKey);
    await claims.claim({ ...address, token: "a", ttlMs: 1 });
    const raised = await redis.pttl(key);
    expect(raised).toBeGreaterThan(1);
    expect(raised).toBeLessThanOrEqual(5_000);

    await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 3_600_000 });
    const lowered = await redis.pttl(key);
    expect(lowered).toBeGreaterThan(5_000);
    expect(lowered).toBeLessThanOrEqual(20_000);
  });

  test("resetResolvedClaim deletes only a resolved claim", async ({ redis }) => {
    const claims = bufferWith(redis);
    expect(await claims.resetResolvedClaim(address)).toEqual({ outcome: "not_resolved" });
    await claims.claim({ ...address, token: "a", ttlMs: 10_000 });
    expect(await claims.resetResolvedClaim(address)).toEqual({ outcome: "not_resolved" });
    expect((await claims.readClaim(address)).outcome).toBe("pending");

    await claims.publishClaim({ ...address, token: "a", runId: "run_1", ttlMs: 10_000 });
    expect(await claims.resetResolvedClaim(address)).toEqual({ outcome: "reset" });
    expect(await claims.readClaim(address)).toEqual({ outcome: "none" });
    expect(await claims.claim({ ...address, token: "b", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
  });

  test("a bad token or TTL throws before anything is written", async ({ redis }) => {
    const claims = bufferWith(redis);
    await expect(claims.claim({ ...address, token: "", ttlMs: 1_000 })).rejects.toThrow(/token/);
    await expect(claims.claim({ ...address, token: "a", ttlMs: Number.NaN })).rejects.toThrow(/ttlMs/);
    await expect(claims.claim({ ...address, taskId: "", token: "a", ttlMs: 1_000 })).rejects.toThrow(
      /taskId/,
    );
    await expect(claims.publishClaim({ ...address, token: "a", runId: "", ttlMs: 1_000 })).rejects.toSatisfy(
      BufferError.isInstance,
    );
    await expect(claims.releaseClaim({ ...address, token: "" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await claims.readClaim(address)).toEqual({ outcome: "none" });
  });

  test("hostile key segments never reach another tenant's or another key's claim", async ({ redis }) => {
    const claims = bufferWith(redis);
    const hostile: ClaimAddress = {
      orgId: "org_1",
      envId: "env_1",
      taskId: "task:a",
      idempotencyKey: "b}:{mollifier:0}:claim:org_2",
    };
    const lookalikes: ClaimAddress[] = [
      { orgId: "org_1", envId: "env_1", taskId: "task", idempotencyKey: "a:b}:{mollifier:0}:claim:org_2" },
      { orgId: "org_1", envId: "env_1", taskId: "task:a:b}", idempotencyKey: "{mollifier:0}:claim:org_2" },
      { orgId: "org_2", envId: "env_1", taskId: "task:a", idempotencyKey: "b" },
      { orgId: "org_1:env_1", envId: "task", taskId: "a", idempotencyKey: "b" },
      {
        orgId: "org_1",
        envId: "env_1",
        taskId: "task%3Aa",
        idempotencyKey: "b%7D%3A%7Bmollifier%3A0%7D%3Aclaim%3Aorg_2",
      },
    ];
    expect(await claims.claim({ ...hostile, token: "a", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
    for (const other of lookalikes) {
      expect(await claims.readClaim(other)).toEqual({ outcome: "none" });
      expect(await claims.claim({ ...other, token: "b", ttlMs: 10_000 })).toEqual({ outcome: "claimed" });
    }
    const key = keys.claim(hostile.orgId, hostile.envId, hostile.taskId, hostile.idempotencyKey);
    expect(key.startsWith(`${keys.shard(keys.shardOf("org_1")).tag}:claim:`)).toBe(true);
    expect(key.slice(key.indexOf("}") + 1)).not.toMatch(/[{}]/);
    expect(await redis.hget(key, "token")).toBe("a");
  });
});
