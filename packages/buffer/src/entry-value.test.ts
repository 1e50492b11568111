import { describe, expect, it } from "vitest";
import { parseEntryValue, splitEntryValue } from "./entry-value.js";
import { UnexpectedReplyError } from "./reply.js";

describe("splitEntryValue", () => {
  it("reads the accept time before the first bar and keeps the rest as the snapshot text", () => {
    expect(splitEntryValue("lease", '1790000000123|{"a":"x|y"}')).toEqual({
      acceptedAt: 1790000000123,
      snapshotText: '{"a":"x|y"}',
    });
  });

  it("throws UnexpectedReplyError for a value without an accept-time prefix", () => {
    expect(() => splitEntryValue("lease", '{"a":1}')).toThrow(UnexpectedReplyError);
  });

  it("needs at least one digit, then a bar, at the very front", () => {
    expect(parseEntryValue("12|")).toEqual({ acceptedAt: 12, snapshotText: "" });
    for (const value of ["", "|{}", "12", "12x|{}", " 12|{}", "-1|{}", "1.5|{}"]) {
      expect(parseEntryValue(value)).toBeUndefined();
    }
  });
});
