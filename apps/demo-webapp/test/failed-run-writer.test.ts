import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { RunEngine } from "../app/engine/run-engine.server";
import { createFailedRunWriter } from "../app/mollifier/failed-run-writer.server";
import { openTestDatabase } from "./harness";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const failedEntry = (runId: string) => ({
  orgId: "org_acme",
  envId: "env_acme_prod",
  runId,
  snapshot: {
    schemaVersion: 1 as const,
    runId,
    orgId: "org_acme",
    envId: "env_acme_prod",
    taskId: "t",
    payload: { n: 1 },
    createdAt: 1_000,
    options: { idempotencyKey: "k", tags: ["x"] },
  },
  rawSnapshot: "{}",
  error: "lease expired",
  kind: "attempts_exhausted" as const,
  failedAt: 2_000,
  attempts: 5,
  acceptedAt: 1_000,
});

test("an entry the buffer failed outside the drainer's hook (reaper, attempts exhausted) gets a SYSTEM_FAILURE row once", async () => {
  const engine = new RunEngine({ database });
  const writer = createFailedRunWriter({ engine, getFailed: async (ref) => failedEntry(ref.runId) });
  const event = {
    orgId: "org_acme",
    envId: "env_acme_prod",
    runId: "run_reaped",
    kind: "attempts_exhausted" as const,
    attempts: 5,
    error: "lease expired",
  };
  writer.failed(event);
  writer.failed(event);
  await vi.waitFor(async () => {
    const run = await engine.findRun("env_acme_prod", "run_reaped");
    expect(run).toMatchObject({ status: "SYSTEM_FAILURE", tags: ["x"], idempotencyKey: undefined });
    expect(run?.error).toContain("attempts_exhausted");
  });
  const rows = await database.query("SELECT count(*)::integer AS n FROM runs WHERE id = 'run_reaped'");
  expect(rows.rows[0]?.n).toBe(1);
});
