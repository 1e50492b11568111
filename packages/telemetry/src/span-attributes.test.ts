import { expect, test } from "vitest";
import { spanAttributesOf } from "./span-attributes.js";

test("names span attributes mollifier.<snake_case> and keeps the ids", () => {
  expect(spanAttributesOf({ runId: "run_1", orgId: "org_1", envId: "env_1", timeInBufferMs: 12 })).toEqual({
    "mollifier.run_id": "run_1",
    "mollifier.org_id": "org_1",
    "mollifier.env_id": "env_1",
    "mollifier.time_in_buffer_ms": 12,
  });
});

test("drops values a span attribute cannot hold", () => {
  expect(
    spanAttributesOf({ kept: true, missing: undefined, object: { a: 1 }, nan: Number.NaN, list: [1] }),
  ).toEqual({ "mollifier.kept": true });
});
