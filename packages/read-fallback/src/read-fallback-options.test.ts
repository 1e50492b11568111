import { MollifierError } from "@mollifier/core";
import { describe, expect, test } from "vitest";
import { fakeBuffer, InMemoryRunStore } from "./fakes.test-support.js";
import { ReadFallbackError } from "./read-fallback-error.js";
import type { ReadFallbackOptions } from "./read-fallback-options.js";
import { DEFAULT_CLAIM_POLLING, resolveReadFallbackOptions } from "./read-fallback-options.js";

const base = { buffer: fakeBuffer(), runStore: new InMemoryRunStore() };

describe("resolveReadFallbackOptions", () => {
  test("fills every default", () => {
    const context = resolveReadFallbackOptions(base);
    expect(context).toMatchObject({ minClaimTtlMs: 1_000, maxClaimTtlMs: 60_000, maxMetadataAttempts: 10 });
    expect(context.claimPolling).toEqual(DEFAULT_CLAIM_POLLING);
    expect(typeof context.generateToken()).toBe("string");
    expect(context.generateToken()).not.toBe(context.generateToken());
  });

  test.each<[Partial<ReadFallbackOptions>, string]>([
    [{ buffer: undefined }, "buffer"],
    [{ runStore: undefined }, "runStore"],
    [{ minClaimTtlMs: 0 }, "minClaimTtlMs"],
    [{ minClaimTtlMs: 5_000, maxClaimTtlMs: 1_000 }, "maxClaimTtlMs"],
    [{ maxMetadataAttempts: 0 }, "maxMetadataAttempts"],
    [{ claimPolling: { maxWaitMs: -1 } }, "claimPolling.maxWaitMs"],
    [{ leasePolling: { jitter: 2 } }, "leasePolling.jitter"],
    [{ metadataBackoff: { initialDelayMs: 1.5 } }, "metadataBackoff.initialDelayMs"],
  ])("rejects %o with INVALID_OPTIONS naming %s", (overrides, name) => {
    let caught: unknown;
    try {
      resolveReadFallbackOptions({ ...base, ...overrides } as ReadFallbackOptions);
    } catch (error) {
      caught = error;
    }
    expect(ReadFallbackError.isInstance(caught) && caught.code).toBe("INVALID_OPTIONS");
    expect(caught instanceof Error && caught.message).toContain(`ReadFallbackOptions.${name} must be `);
  });

  test("messages follow the one format of every package's options", () => {
    expect(() => resolveReadFallbackOptions({ ...base, claimPolling: { jitter: 2 } })).toThrow(
      "ReadFallbackOptions.claimPolling.jitter must be a number from 0 to 1, got 2",
    );
  });

  test("isInstance recognises the brand, not the class", () => {
    expect(ReadFallbackError.isInstance(new ReadFallbackError("INVALID_INPUT", "x"))).toBe(true);
    expect(ReadFallbackError.isInstance(new Error("x"))).toBe(false);
    expect(ReadFallbackError.isInstance({ [Symbol.for("@mollifier/read-fallback/error")]: true })).toBe(true);
  });

  test("its errors are MollifierErrors, so one check covers every package", () => {
    expect(MollifierError.isInstance(new ReadFallbackError("INVALID_INPUT", "x"))).toBe(true);
  });
});
