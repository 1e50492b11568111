import { redisClusterTest } from "@mollifier/testing";
import { describe, expect, test } from "vitest";
import { crc16, evenSlotRanges, keySlot, SLOT_COUNT } from "./crc16.js";

describe("CRC16 and hash slots", () => {
  test("CRC16 is Redis's XMODEM variant (the reference vector of the Redis Cluster spec)", () => {
    expect(crc16("123456789")).toBe(0x31c3);
    expect(crc16("")).toBe(0);
  });

  test("a key's slot hashes only its hash tag, by the rules of the Redis Cluster spec", () => {
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
    expect(keySlot("{user1000}.following")).toBe(crc16("user1000") % SLOT_COUNT);
    expect(keySlot("foo{}{bar}")).toBe(crc16("foo{}{bar}") % SLOT_COUNT);
    expect(keySlot("foo{{bar}}zap")).toBe(crc16("{bar") % SLOT_COUNT);
    expect(keySlot("foo{bar}{zap}")).toBe(crc16("bar") % SLOT_COUNT);
    expect(keySlot("no-tag")).toBe(crc16("no-tag") % SLOT_COUNT);
  });

  test("an even split covers every slot once, in ranges that differ by at most one slot", () => {
    for (const count of [1, 2, 3, 5, 6, 12, 16, 64, 1000, SLOT_COUNT]) {
      const ranges = evenSlotRanges(count);
      expect(ranges).toHaveLength(count);
      expect(ranges[0]?.first).toBe(0);
      expect(ranges.at(-1)?.last).toBe(SLOT_COUNT - 1);
      for (const [index, range] of ranges.entries()) {
        if (index > 0) expect(range.first).toBe((ranges[index - 1]?.last ?? 0) + 1);
        const size = range.last - range.first + 1;
        expect(Math.abs(size - SLOT_COUNT / count)).toBeLessThan(1);
      }
    }
    expect(() => evenSlotRanges(0)).toThrow(RangeError);
  });
});

redisClusterTest(
  "CLUSTER KEYSLOT agrees with keySlot, and the fixture's cluster owns the even split redis-cli makes",
  async ({ redis }) => {
    const keys = [
      "{mollifier:0:15796}:orgs",
      "{mollifier:15:150}",
      "a{b}c",
      "foo{}{bar}",
      "foo{{bar}}zap",
      "ünï",
    ];
    for (const key of keys) expect(await redis.cluster("KEYSLOT", key)).toBe(keySlot(key));
    const owned = (await redis.cluster("SLOTS"))
      .map(([first, last]) => ({ first, last }))
      .sort((left, right) => left.first - right.first);
    expect(owned).toEqual(evenSlotRanges(3));
  },
);
