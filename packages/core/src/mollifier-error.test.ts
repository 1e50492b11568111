import { describe, expect, test } from "vitest";
import { hasBrand, MollifierError } from "./mollifier-error.js";

const WIDGET_BRAND = Symbol.for("@mollifier/widget/error");

class WidgetError extends MollifierError<"INVALID_OPTIONS" | "BROKEN"> {
  readonly [WIDGET_BRAND] = true;

  static override isInstance(value: unknown): value is WidgetError {
    return hasBrand(value, WIDGET_BRAND);
  }
}

describe("MollifierError", () => {
  test("a package's base error is a MollifierError with a machine-readable code and keeps its own check", () => {
    const error = new WidgetError("BROKEN", "it broke", { cause: "why" });
    expect(MollifierError.isInstance(error)).toBe(true);
    expect(WidgetError.isInstance(error)).toBe(true);
    expect(error.code).toBe("BROKEN");
    expect(error.cause).toBe("why");
    expect(WidgetError.isInstance(new MollifierError("X", "plain base"))).toBe(false);
  });

  test("isInstance recognises an error of another installed copy by its Symbol.for brand", () => {
    const foreign = Object.assign(new Error("x"), { [Symbol.for("@mollifier/core/error")]: true, code: "X" });
    expect(MollifierError.isInstance(foreign)).toBe(true);
    expect(MollifierError.isInstance(new Error("plain"))).toBe(false);
    expect(MollifierError.isInstance(null)).toBe(false);
    expect(MollifierError.isInstance("INVALID_OPTIONS")).toBe(false);
  });
});
