import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeSegment, encodeSegment, InvalidKeySegmentError } from "./keys.js";

// Independent of the implementation: UTF-8 has no bytes for a lone surrogate,
// so such a string does not survive a UTF-8 round trip.
const wellFormed = (id: string) => Buffer.from(id, "utf8").toString("utf8") === id;

// Any code point, or any single surrogate half (which may pair with a neighbour).
const codeUnitOrCodePoint = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
);

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

  test("an id with a lone surrogate is refused, so two such ids never alias one key", () => {
    for (const id of ["\ud800", "\udc00", "a\udbff", "\udfffz", "\ude00\ud83d"]) {
      expect(() => encodeSegment(id, "runId")).toThrow(InvalidKeySegmentError);
      expect(() => encodeSegment(id, "runId")).toThrow(/runId must be well-formed UTF-16/);
    }
    // A surrogate pair is one code point and stays a valid id.
    expect(decodeSegment(encodeSegment("a\ud83d\ude00"))).toBe("a\ud83d\ude00");
  });

  test("any string of code units is either refused (not well-formed) or round-trips and stays distinct", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: codeUnitOrCodePoint, minLength: 1, maxLength: 12 }),
        fc.string({ unit: codeUnitOrCodePoint, minLength: 1, maxLength: 12 }),
        (left, right) => {
          for (const id of [left, right]) {
            if (wellFormed(id)) expect(decodeSegment(encodeSegment(id))).toBe(id);
            else expect(() => encodeSegment(id)).toThrow(InvalidKeySegmentError);
          }
          if (left !== right && wellFormed(left) && wellFormed(right)) {
            expect(encodeSegment(left)).not.toBe(encodeSegment(right));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
