import { describe, expect, test } from "vitest";
import { MollifierError } from "./mollifier-error.js";
import { invalidOptionMessage, optionChecks } from "./option-checks.js";

const check = optionChecks("WidgetOptions", (message) => new MollifierError("INVALID_OPTIONS", message));

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(MollifierError.isInstance(error) && error.code).toBe("INVALID_OPTIONS");
    return (error as Error).message;
  }
  throw new Error("expected a throw");
}

describe("optionChecks", () => {
  test("every failure names the options type and field, the expectation and the value", () => {
    expect(messageOf(() => check.integer("size", 0, 1))).toBe(
      "WidgetOptions.size must be an integer >= 1, got 0",
    );
    expect(messageOf(() => check.integer("retry.count", 1.5, 0, 10))).toBe(
      "WidgetOptions.retry.count must be an integer from 0 to 10, got 1.5",
    );
    expect(messageOf(() => check.number("rate", 0, { above: 0 }))).toBe(
      "WidgetOptions.rate must be a number > 0, got 0",
    );
    expect(messageOf(() => check.number("jitter", 2, { min: 0, max: 1 }))).toBe(
      "WidgetOptions.jitter must be a number from 0 to 1, got 2",
    );
    expect(messageOf(() => check.function("clock", "now"))).toBe(
      'WidgetOptions.clock must be a function, got "now"',
    );
    expect(messageOf(() => check.object("source", undefined))).toBe(
      "WidgetOptions.source must be an object, got undefined",
    );
  });

  test("valid values come back unchanged", () => {
    expect(check.integer("size", 5, 1)).toBe(5);
    expect(check.number("rate", 0.5, { above: 0, max: 1 })).toBe(0.5);
    const clock = () => 1;
    expect(check.function("clock", clock)).toBe(clock);
  });

  test("non-numbers and unsafe numbers fail the numeric checks", () => {
    expect(() => check.integer("size", "5", 1)).toThrow(/got "5"/);
    expect(() => check.integer("size", 2 ** 60, 1)).toThrow(/WidgetOptions\.size/);
    expect(() => check.number("rate", Number.NaN)).toThrow(/got NaN/);
  });

  test("the message format is shared by validators that build their own message", () => {
    expect(invalidOptionMessage("GateConfig", "tripThreshold", "a positive integer", "x")).toBe(
      'GateConfig.tripThreshold must be a positive integer, got "x"',
    );
  });
});
