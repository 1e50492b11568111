import { describe, expect, test } from "vitest";
import { applyMetadataOperations } from "./metadata-operations";

describe("metadata operations", () => {
  test("set, delete, append, remove and increment apply in order to the current object", () => {
    const result = applyMetadataOperations({ keep: 1, gone: true, log: "first" }, [
      { type: "set", key: "step", value: { n: 2 } },
      { type: "delete", key: "gone" },
      { type: "append", key: "log", value: "second" },
      { type: "append", key: "events", value: { at: 1 } },
      { type: "append", key: "events", value: { at: 2 } },
      { type: "remove", key: "events", value: { at: 1 } },
      { type: "increment", key: "count", value: 3 },
      { type: "increment", key: "count", value: -1 },
    ]);
    expect(result).toEqual({
      keep: 1,
      log: ["first", "second"],
      step: { n: 2 },
      events: [{ at: 2 }],
      count: 2,
    });
  });

  test("update replaces the whole object, and metadata that is not an object reads as empty", () => {
    expect(applyMetadataOperations({ a: 1 }, [{ type: "update", value: { b: 2 } }])).toEqual({ b: 2 });
    expect(applyMetadataOperations("text", [{ type: "set", key: "a", value: 1 }])).toEqual({ a: 1 });
  });
});
