import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BufferError } from "./errors.js";
import { encodeSegment } from "./keys.js";
import {
  type AcceptInput,
  decodeSnapshot,
  encodeSnapshot,
  plainSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  triggerSnapshotSchema,
} from "./snapshot.js";

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

  test("a snapshot reads back as written, on the hand-built and on the zod path alike", () => {
    const hostile = { runId: "r:1}{ü", orgId: "a:b{c}ü", envId: "e" };
    const inputs = [
      {
        ...base,
        options: { idempotencyKey: "k", tags: ["a"], priority: 2 },
        payloadType: "application/json",
      },
      { ...base, ...hostile, traceContext: { traceparent: "00-abc-def-01" }, options: { custom: [1, 2] } },
    ];
    for (const input of inputs) {
      const { text, snapshot } = encodeSnapshot(input, 5, 1024);
      expect(decodeSnapshot({ runId: input.runId, orgId: input.orgId, envId: input.envId }, text)).toEqual({
        ok: true,
        snapshot,
      });
    }
  });

  test("a traced trigger's W3C context is kept and read back; a context with a non-string value is refused", () => {
    const traceContext = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
    const { text, snapshot } = encodeSnapshot({ ...base, traceContext }, 5, 1024);
    expect(snapshot.traceContext).toEqual(traceContext);
    expect(decodeSnapshot({ runId: base.runId, orgId: base.orgId, envId: base.envId }, text)).toEqual({
      ok: true,
      snapshot,
    });
    rejects(
      () =>
        encodeSnapshot(
          { ...base, traceContext: { traceparent: 1 } as unknown as Record<string, string> },
          5,
          1024,
        ),
      "INVALID_INPUT",
    );
  });

  test("reading a stored snapshot of another version or broken JSON answers an error instead of throwing", () => {
    const address = { runId: "r", orgId: "o", envId: "e" };
    expect(decodeSnapshot(address, "{not json").ok).toBe(false);
    expect(
      decodeSnapshot(address, JSON.stringify({ schemaVersion: 9, taskId: "t", createdAt: 1, options: {} }))
        .ok,
    ).toBe(false);
  });

  test("the hand-built hot path accepts only inputs the zod schema accepts, with the same result", () => {
    // Mostly well-typed values, sometimes a wrong type, so both paths get exercised.
    const wrong = fc.oneof(
      fc.constant(null),
      fc.double(),
      fc.constant(2 ** 60),
      fc.constant(""),
      fc.constant([1]),
    );
    const maybe = <T>(good: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: wrong });
    const id = maybe(
      fc.oneof(
        { weight: 10, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
        { weight: 1, arbitrary: fc.constant("a:b{c}ü") },
      ),
    );
    const epoch = fc.oneof({ weight: 10, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constant(-1) });
    const options = fc.record(
      {
        idempotencyKey: id,
        idempotencyKeyExpiresAt: maybe(epoch),
        tags: maybe(fc.array(fc.string(), { maxLength: 3 })),
        delayUntil: maybe(epoch),
        ttl: maybe(fc.oneof(fc.string(), fc.integer())),
        queue: maybe(fc.string()),
        maxAttempts: maybe(fc.integer({ min: -1, max: 5 })),
        priority: maybe(fc.oneof(fc.integer(), fc.constant(Number.POSITIVE_INFINITY))),
        parentRunId: maybe(fc.string()),
        custom: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const input = fc.record(
      {
        runId: id,
        orgId: id,
        envId: id,
        taskId: id,
        payload: fc.jsonValue(),
        payloadType: maybe(fc.string()),
        options,
      },
      { requiredKeys: ["runId", "orgId", "envId", "taskId", "payload"] },
    );
    // Now and then a field the schema does not know, which zod strips.
    const withExtra = fc
      .tuple(input, fc.integer({ min: 0, max: 9 }))
      .map(([value, roll]) => (roll === 0 ? { ...value, extra: "x" } : value));
    let fastPathTaken = 0;
    fc.assert(
      fc.property(withExtra, maybe(fc.nat()), (candidate, createdAtCandidate) => {
        // Deliberately ill-typed inputs: the hot path must reject them at run time.
        const value = candidate as unknown as AcceptInput;
        const createdAt = createdAtCandidate as number;
        const fast = plainSnapshot(value, createdAt);
        if (fast === undefined) return;
        fastPathTaken += 1;
        const parsed = triggerSnapshotSchema.safeParse({
          ...value,
          schemaVersion: SNAPSHOT_SCHEMA_VERSION,
          createdAt,
          options: value.options ?? {},
        });
        expect(parsed.success).toBe(true);
        expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(parsed.data)));
      }),
      { numRuns: 2_000 },
    );
    expect(fastPathTaken).toBeGreaterThan(200);
  });

  test("reading a stored snapshot back gives what the zod schema gives, for any ids an entry key can spell", () => {
    // Entry ids are whatever passed encodeSegment: any non-empty text up to 512 bytes, not only ASCII.
    const entryId = fc
      .oneof(
        { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
        { weight: 1, arbitrary: fc.constantFrom("a:b{c}ü", "組織", "x".repeat(512)) },
      )
      .filter((value) => {
        try {
          encodeSegment(value);
          return true;
        } catch {
          return false;
        }
      });
    const stored = fc.record(
      {
        taskId: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constant("tâche")),
        payload: fc.jsonValue(),
        payloadType: fc.option(fc.string(), { nil: undefined }),
        options: fc.record(
          { queue: fc.string(), maxAttempts: fc.integer({ min: 1, max: 5 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["taskId", "payload", "options"] },
    );
    fc.assert(
      fc.property(stored, entryId, entryId, entryId, (fields, runId, orgId, envId) => {
        const { text } = encodeSnapshot({ ...fields, runId: "r", orgId: "o", envId: "e" }, 1_000, 1 << 20);
        const address = { runId, orgId, envId };
        const decoded = decodeSnapshot(address, text);
        const expected = triggerSnapshotSchema.safeParse({ ...JSON.parse(text), ...address });
        expect(decoded.ok).toBe(expected.success);
        if (decoded.ok && expected.success) {
          expect(JSON.parse(JSON.stringify(decoded.snapshot))).toEqual(
            JSON.parse(JSON.stringify(expected.data)),
          );
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
