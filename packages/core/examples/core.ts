import { backoffDelayMs, MollifierError, optionChecks } from "@mollifier/core";

console.log(backoffDelayMs(2, { initialDelayMs: 100, maxDelayMs: 5_000, jitter: 0.5 }, Math.random)); // 200..400

class WidgetError extends MollifierError<"INVALID_OPTIONS"> {}
const check = optionChecks("WidgetOptions", (message) => new WidgetError("INVALID_OPTIONS", message));
try {
  check.integer("size", 0, 1);
} catch (error) {
  // "WidgetOptions.size must be an integer >= 1, got 0", recognised across installed copies
  console.log(MollifierError.isInstance(error) && error.code, String(error));
}
