import { redisTest } from "@mollifier/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, vi } from "vitest";
import { TerminalDrainError } from "../app/mollifier/materialise.server";
import {
  cancelBufferedRun,
  discardFailedRun,
  inspectorTenant,
  listBufferedRuns,
  listFailedRuns,
  openBufferedRun,
  replayFailedRun,
} from "../app/observability/buffer-inspector.server";
import { ACME_PROD, createHarness, GLOBEX_PROD, openTestDatabase } from "./harness";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const acme = ACME_PROD ?? (undefined as never);
const globex = GLOBEX_PROD ?? (undefined as never);
const snapshotOf = (runId: string, tenant = acme) => ({
  runId,
  orgId: tenant.orgId,
  envId: tenant.envId,
  taskId: "inspect",
  payload: { runId },
  options: { tags: ["t"], idempotencyKey: `key-${runId}` },
});

describe("the buffer inspector", () => {
  redisTest(
    "lists an env's buffered runs oldest first by cursor, opens and cancels one, and never shows another tenant's",
    async ({ redis }) => {
      const harness = await createHarness({ redis: redis as Redis, database, runDrainer: false });
      const { services } = harness;
      try {
        for (const runId of ["run_a", "run_b", "run_c"]) await services.buffer.accept(snapshotOf(runId));
        await services.buffer.accept(snapshotOf("run_globex", globex));
        const tenant = inspectorTenant(services, acme.apiKey);
        if (tenant === undefined) throw new Error("acme's key opens no env");
        expect(inspectorTenant(services, "mk_wrong")).toBeUndefined();
        expect(inspectorTenant(services, "")).toBeUndefined();

        const first = await listBufferedRuns(services, tenant, { limit: 2 });
        expect(first.entries.map((entry) => entry.runId)).toEqual(["run_a", "run_b"]);
        expect(first.nextCursor).not.toBeNull();
        const second = await listBufferedRuns(services, tenant, { limit: 2, cursor: first.nextCursor ?? "" });
        expect(second.entries.map((entry) => entry.runId)).toEqual(["run_c"]);

        const opened = await openBufferedRun(services, tenant, "run_b");
        expect(opened).toMatchObject({ state: "queued", attempts: 0, position: 1, taskId: "inspect" });
        expect(opened?.snapshot.payload).toEqual({ runId: "run_b" });
        // Another tenant's run is not found through acme's key.
        expect(await openBufferedRun(services, tenant, "run_globex")).toBeUndefined();

        expect(await cancelBufferedRun(services, tenant, "run_b", "operator")).toEqual({
          status: "CANCELED",
        });
        expect((await openBufferedRun(services, tenant, "run_b"))?.mutations.canceled?.reason).toBe(
          "operator",
        );
        await expect(cancelBufferedRun(services, tenant, "run_globex", "x")).rejects.toMatchObject({
          status: 404,
        });
      } finally {
        await harness.close();
      }
    },
  );

  redisTest("a leased run opens with its lease deadline", async ({ redis }) => {
    const harness = await createHarness({ redis: redis as Redis, database, runDrainer: false });
    const { services } = harness;
    try {
      await services.buffer.accept(snapshotOf("run_leased"));
      const {
        entries: [leased],
      } = await services.buffer.lease({ orgId: acme.orgId, envId: acme.envId, count: 1, leaseMs: 60_000 });
      expect(leased?.runId).toBe("run_leased");
      expect(await openBufferedRun(services, acme, "run_leased")).toMatchObject({
        state: "leased",
        position: null,
        leaseDeadline: leased?.leaseDeadline,
      });
      await services.buffer.accept(snapshotOf("run_queued"));
      expect((await openBufferedRun(services, acme, "run_queued"))?.leaseDeadline).toBeNull();
    } finally {
      await harness.close();
    }
  });

  redisTest(
    "a failed entry whose snapshot cannot be read is listed with its decode error, discarded but never replayed",
    async ({ redis }) => {
      const harness = await createHarness({ redis: redis as Redis, database, runDrainer: false });
      const { services } = harness;
      try {
        await services.buffer.accept(snapshotOf("run_corrupt"));
        // The stored snapshot is damaged in Redis (a bad write, a downgrade): its JSON no longer parses.
        const entries = services.buffer.keys.env(acme.orgId, acme.envId).entries;
        const [acceptedAt] = ((await redis.hget(entries, "run_corrupt")) ?? "").split("|");
        await redis.hset(entries, "run_corrupt", `${acceptedAt}|{"taskId":"inspect","payload":`);
        services.drainer.start();
        const failures = await vi.waitFor(
          async () => {
            const listed = await listFailedRuns(services, acme);
            expect(listed.map((failure) => failure.runId)).toEqual(["run_corrupt"]);
            return listed;
          },
          { timeout: 20_000 },
        );
        expect(failures[0]).toMatchObject({
          runId: "run_corrupt",
          kind: "invalid_entry",
          replayable: false,
          taskId: null,
          unreadable: {
            error: expect.stringContaining("not valid JSON"),
            excerpt: '{"taskId":"inspect","payload":',
          },
        });
        // Never a row: there is no run to write. Another tenant does not see it.
        expect(await database.query("SELECT id FROM runs WHERE id = 'run_corrupt'")).toMatchObject({
          rows: [],
        });
        expect(await listFailedRuns(services, globex)).toEqual([]);
        expect(await replayFailedRun(services, acme, "run_corrupt")).toEqual({
          outcome: "unreadable",
          error: failures[0]?.error,
        });
        expect(await discardFailedRun(services, acme, "run_corrupt")).toEqual({ outcome: "discarded" });
        expect(await listFailedRuns(services, acme)).toEqual([]);
      } finally {
        await harness.close();
      }
    },
  );

  redisTest(
    "a replay keeps the tags and metadata the run met while buffered; a run canceled while buffered is not replayed",
    async ({ redis }) => {
      const harness = await createHarness({ redis: redis as Redis, database, runDrainer: false });
      const { services } = harness;
      try {
        const address = (runId: string) => ({ orgId: acme.orgId, envId: acme.envId, runId });
        await services.buffer.accept(snapshotOf("run_tagged"));
        await services.buffer.accept(snapshotOf("run_canceled"));
        await services.buffer.addTags({ ...address("run_tagged"), tags: ["added-while-buffered"] });
        await services.buffer.setMetadata({
          ...address("run_tagged"),
          metadata: '{"step":3}',
          expectedVersion: 0,
        });
        await services.buffer.cancel({ ...address("run_canceled"), reason: "operator" });
        const { entries } = await services.buffer.lease({ orgId: acme.orgId, envId: acme.envId, count: 2 });
        for (const entry of entries) await services.buffer.fail(entry, { error: "handler failed" });

        expect(await replayFailedRun(services, acme, "run_canceled")).toEqual({
          outcome: "refused",
          reason: "the run was canceled while it was buffered",
        });
        expect(await services.buffer.getFailed(address("run_canceled"))).toBeDefined();

        expect(await replayFailedRun(services, acme, "run_tagged")).toMatchObject({ outcome: "replayed" });
        const replayed = await openBufferedRun(services, acme, "run_tagged");
        expect(replayed?.mutations).toMatchObject({ tags: ["added-while-buffered"], metadata: '{"step":3}' });
        expect(await services.buffer.getFailed(address("run_tagged"))).toBeUndefined();
      } finally {
        await harness.close();
      }
    },
  );

  redisTest(
    "replaying a failed entry drains it into the database exactly once, under the same run id",
    async ({ redis }) => {
      let failing = true;
      const harness = await createHarness({
        redis: redis as Redis,
        database,
        beforeMaterialise: (entry) => {
          if (failing && entry.runId.startsWith("run_poison")) throw new TerminalDrainError("poison payload");
        },
      });
      const { services } = harness;
      const tenant = acme;
      const rowsOf = async (runId: string) =>
        (await database.query<{ status: string }>("SELECT status FROM runs WHERE id = $1", [runId])).rows;
      try {
        await services.buffer.accept(snapshotOf("run_poison"));
        await services.buffer.accept(snapshotOf("run_poison_globex", globex));
        await vi.waitFor(
          async () => expect(await rowsOf("run_poison")).toEqual([{ status: "SYSTEM_FAILURE" }]),
          {
            timeout: 20_000,
          },
        );
        await vi.waitFor(async () => expect((await listFailedRuns(services, tenant)).length).toBe(1), {
          timeout: 10_000,
        });
        await vi.waitFor(
          async () => expect(await rowsOf("run_poison_globex")).toEqual([{ status: "SYSTEM_FAILURE" }]),
          {
            timeout: 20_000,
          },
        );
        const [failure] = await listFailedRuns(services, tenant);
        expect(failure).toMatchObject({ runId: "run_poison", kind: "terminal", replayable: true });
        expect(failure?.error).toContain("poison payload");

        // The fix is deployed; the operator replays the entry, twice (a double click).
        failing = false;
        const [replay, again] = await Promise.all([
          replayFailedRun(services, tenant, "run_poison"),
          replayFailedRun(services, tenant, "run_poison"),
        ]);
        expect([replay, again].filter((answer) => answer.outcome === "replayed")).toHaveLength(1);
        for (const answer of [replay, again]) {
          expect(["replayed", "already_buffered", "not_found"]).toContain(answer?.outcome);
        }
        await vi.waitFor(async () => expect(await rowsOf("run_poison")).toEqual([{ status: "QUEUED" }]), {
          timeout: 20_000,
        });
        expect(await rowsOf("run_poison")).toEqual([{ status: "QUEUED" }]);
        expect(await listFailedRuns(services, tenant)).toEqual([]);
        expect(await replayFailedRun(services, tenant, "run_poison")).toEqual({ outcome: "not_found" });
        // Globex's failed entry is not acme's to replay or discard.
        expect(await discardFailedRun(services, tenant, "run_poison_globex")).toEqual({
          outcome: "not_found",
        });
        expect(await services.buffer.getFailed({ ...globex, runId: "run_poison_globex" })).toBeDefined();
      } finally {
        await harness.close();
      }
    },
  );
});
