import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { MollifierBuffer } from "@mollifier/buffer";
import { redisTest } from "@mollifier/testing";
import { expect, vi } from "vitest";
import { Drainer } from "./drainer.js";
import { fill } from "./test-support/buffer-fixtures.js";
import { DUPLICATES, materialise, RUNS_TABLE } from "./test-support/materialise.js";
import { recordingRecorder } from "./test-support/recording-recorder.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const child = fileURLToPath(new URL("./test-support/drainer-process.ts", import.meta.url));
const CHILD_CONCURRENCY = 8;

redisTest(
  "a drainer killed with SIGKILL mid-batch loses nothing: a second drainer finishes and every run is materialised exactly once",
  async ({ redis, redisEndpoint, createRedisClient }) => {
    const buffer = new MollifierBuffer({ redis });
    const accepted: string[] = [];
    for (const org of ["org-a", "org-b", "org-c", "org-d"])
      accepted.push(...(await fill(buffer, org, ["e1", "e2"], 50)));

    // `node --import tsx` keeps the drainer in this very process, so SIGKILL hits it (the tsx CLI would fork).
    const worker = spawn(
      process.execPath,
      ["--import", "tsx", child, redisEndpoint.url, String(CHILD_CONCURRENCY)],
      {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await vi.waitFor(async () => expect(await redis.hlen(RUNS_TABLE)).toBeGreaterThanOrEqual(100), {
        timeout: 60_000,
        interval: 2,
      });
    } finally {
      worker.kill("SIGKILL");
    }
    if (worker.exitCode === null && worker.signalCode === null) await once(worker, "exit");
    expect(worker.signalCode).toBe("SIGKILL");
    // Killed mid-batch: entries were still queued or leased by the dead process.
    expect((await buffer.stats()).depth).toBeGreaterThan(0);

    const recorder = recordingRecorder();
    const survivor = createRedisClient();
    const drainer = new Drainer({
      source: new MollifierBuffer({ redis: survivor }),
      recorder,
      idleDelayMs: 5,
      maintenanceIntervalMs: 50,
      handler: async (entry) => materialise(redis, entry.runId, "survivor"),
    });
    drainer.start();
    await vi.waitFor(async () => expect((await buffer.stats()).depth).toBe(0), {
      timeout: 60_000,
      interval: 50,
    });
    await drainer.stop();

    const table = await redis.hgetall(RUNS_TABLE);
    expect(Object.keys(table).sort()).toEqual([...accepted].sort());
    // Only entries the dead process had written but not acked are delivered twice, and the unique run id absorbs them.
    const duplicates = Number((await redis.get(DUPLICATES)) ?? "0");
    expect(duplicates).toBeLessThanOrEqual(CHILD_CONCURRENCY);
    // The dead process's leases expired and the survivor's reaper returned them.
    const reaped = recorder.events.reaped.reduce((sum, event) => sum + event.count, 0);
    expect(reaped).toBeGreaterThan(0);
    expect(reaped).toBeGreaterThanOrEqual(duplicates);
    expect(recorder.events.failed).toEqual([]);
  },
);
