import { expect, test } from "vitest";
import { answerKind } from "./answer-kind";

const notice = "the run was mollified";

test("an idempotent hit on a buffered run counts as an idempotent hit only, not as mollified", () => {
  expect(answerKind(200, { id: "run_1", isCached: true, notice })).toBe("idempotent");
});

test("a buffered new run counts as mollified, a run written at once as created", () => {
  expect(answerKind(201, { id: "run_1", isCached: false, notice })).toBe("mollified");
  expect(answerKind(201, { id: "run_1", isCached: false })).toBe("created");
  expect(answerKind(200, { id: "run_1", isCached: true })).toBe("idempotent");
});

test("an error status or an answer without an id is a failure", () => {
  expect(answerKind(503, { id: "run_1" })).toBe("failed");
  expect(answerKind(201, {})).toBe("failed");
});
