import { describe, expect, test } from "vitest";
import { evenSlotRanges, keySlot } from "./crc16.js";
import { slotBalancedTags, slotBalancedTargetSlots } from "./slot-balanced-tags.js";

describe("slot-balanced tags", () => {
  test("tag i of a stem sits on the centre slot of range i, with the smallest k that does", () => {
    for (const [stem, count] of [
      ["mollifier:rate", 16],
      ["mollifier:global", 5],
      ["x", 1],
    ] as const) {
      const tags = slotBalancedTags(stem, count);
      const targets = slotBalancedTargetSlots(count);
      for (const [index, tag] of tags.entries()) {
        const match = /^\{(.*):(\d+):(\d+)\}$/.exec(tag);
        expect(match?.[1]).toBe(stem);
        expect(Number(match?.[2])).toBe(index);
        expect(keySlot(tag)).toBe(targets[index]);
        // No smaller k lands there (checked up to 3,000).
        const k = Number(match?.[3]);
        for (let smaller = 0; smaller < Math.min(k, 3_000); smaller++) {
          expect(keySlot(`{${stem}:${index}:${smaller}}`)).not.toBe(targets[index]);
        }
      }
    }
  });

  test("on 3, 6 and 12 masters with even ranges no master holds more than ceil(tags / masters)", () => {
    for (const count of [4, 8, 16]) {
      const tags = slotBalancedTags("mollifier:rate", count);
      for (const masters of [3, 6, 12]) {
        const perMaster = evenSlotRanges(masters).map(
          (range) => tags.filter((tag) => keySlot(tag) >= range.first && keySlot(tag) <= range.last).length,
        );
        expect(Math.max(...perMaster)).toBeLessThanOrEqual(Math.ceil(count / masters));
      }
    }
  });

  test("the same stem and count give the same tags in every process (a pure function)", () => {
    expect(slotBalancedTags("a", 3)).toBe(slotBalancedTags("a", 3));
    // Pinned: a change here moves every deployed key.
    expect([...slotBalancedTags("a", 3)]).toEqual(["{a:0:24109}", "{a:1:7348}", "{a:2:41150}"]);
  });
});
