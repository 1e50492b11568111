import { MollifierError } from "@mollifier/core";
import { describe, expect, test } from "vitest";
import { BufferConfigurationError, BufferError, BufferInputError } from "./errors.js";

describe("BufferError", () => {
  test("isInstance recognises every buffer error by its brand and carries a machine-readable code", () => {
    const input = new BufferInputError("PAYLOAD_TOO_LARGE", "too big");
    const config = new BufferConfigurationError("EVICTION_POLICY", "evicts");
    expect(BufferError.isInstance(input)).toBe(true);
    expect(BufferError.isInstance(config)).toBe(true);
    expect(input.code).toBe("PAYLOAD_TOO_LARGE");
    expect(config.code).toBe("EVICTION_POLICY");
  });

  test("every buffer error is a MollifierError, so other packages need not import the buffer to check", () => {
    const input = new BufferInputError("INVALID_INPUT", "bad id");
    expect(MollifierError.isInstance(input)).toBe(true);
    expect(BufferError.isInstance(new MollifierError("INVALID_INPUT", "not the buffer's"))).toBe(false);
  });

  test("isInstance accepts an error from another copy of the package (same Symbol.for brand)", () => {
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("@mollifier/buffer/error")]: true,
      code: "X",
    });
    expect(BufferError.isInstance(foreign)).toBe(true);
    expect(BufferError.isInstance(new Error("plain"))).toBe(false);
    expect(BufferError.isInstance(null)).toBe(false);
  });
});
