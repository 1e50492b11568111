import { expect, test } from "vitest";
import { initialRunStatus } from "./initial-run-status";

test("a run starts DELAYED only while its start lies in the future", () => {
  expect(initialRunStatus(undefined, 1_000)).toBe("QUEUED");
  expect(initialRunStatus(999, 1_000)).toBe("QUEUED");
  expect(initialRunStatus(1_000, 1_000)).toBe("QUEUED");
  expect(initialRunStatus(1_001, 1_000)).toBe("DELAYED");
});
