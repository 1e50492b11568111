import { describe, expect, test } from "vitest";
import { BufferError } from "./errors.js";
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_SCHEMA_VERSION } from "./snapshot.js";

const base = {
  runId: "run_1",
  orgId: "org_1",
  envId: "env_1",
  taskId: "task",
  payload: { a: 1 },
  options: {},
};

function rejects(run: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(BufferError.isInstance(thrown)).toBe(true);
  expect(thrown).toMatchObject({ code });
}

describe("the snapshot schema", () => {
  test("stores the payload as its JSON and leaves out the ids the entry's key already spells", () => {
    const { text, snapshot } = encodeSnapshot(base, 1_000, 1024);
    expect(JSON.parse(text)).toEqual({
      schemaVersion: 1,
      taskId: "task",
      createdAt: 1_000,
      options: {},
      payload: { a: 1 },
    });
    expect(text).not.toContain("run_1");
    expect(snapshot.schemaVersion).toBe(SNAPSHOT_SCHEMA_VERSION);
    const decoded = decodeSnapshot({ runId: "run_1", orgId: "org_1", envId: "env_1" }, text);
    expect(decoded).toEqual({ ok: true, snapshot });
  });

  test("rejects a payload over the limit, empty ids, an unknown schema version and non-JSON payloads", () => {
    rejects(() => encodeSnapshot({ ...base, payload: "x".repeat(2000) }, 0, 1024), "PAYLOAD_TOO_LARGE");
    rejects(() => encodeSnapshot({ ...base, runId: "" }, 0, 1024), "INVALID_INPUT");
    rejects(() => encodeSnapshot({ ...base, taskId: "t".repeat(600) }, 0, 1024), "INVALID_INPUT");
    rejects(() => encodeSnapshot({ ...base, schemaVersion: 2 }, 0, 1024), "INVALID_INPUT");
    rejects(() => encodeSnapshot({ ...base, payload: undefined }, 0, 1024), "INVALID_INPUT");
    rejects(() => encodeSnapshot({ ...base, payload: { big: 1n } }, 0, 1024), "INVALID_INPUT");
  });

  test("reading a stored snapshot of another version or broken JSON answers an error instead of throwing", () => {
    const address = { runId: "r", orgId: "o", envId: "e" };
    expect(decodeSnapshot(address, "{not json").ok).toBe(false);
    expect(
      decodeSnapshot(address, JSON.stringify({ schemaVersion: 9, taskId: "t", createdAt: 1, options: {} }))
        .ok,
    ).toBe(false);
  });
});
