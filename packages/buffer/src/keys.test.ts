import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeSegment, encodeSegment } from "./keys.js";

describe("key segments", () => {
  test("decoding an encoded segment gives the id back, for any id, `%` and unicode included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), (id) => {
        expect(decodeSegment(encodeSegment(id))).toBe(id);
      }),
      { numRuns: 2_000 },
    );
    expect(decodeSegment(encodeSegment("100%"))).toBe("100%");
    expect(decodeSegment(encodeSegment("%41"))).toBe("%41");
  });

  test("an encoded segment holds no `:`, `{`, `}` and differs for different ids", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
        (left, right) => {
          const encoded = encodeSegment(left);
          expect(encoded).not.toMatch(/[:{}]/);
          if (left !== right) expect(encodeSegment(right)).not.toBe(encoded);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
