import { describe, expect, it } from "vitest";
import { splitEntryValue } from "./entry-value.js";
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
});
