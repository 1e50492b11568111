import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    minWorkers: 1,
    fileParallelism: true,
    testTimeout: 30_000,
    // One id per run, so the isolation proof's rendezvous never meets a stale file.
    env: { MOLLIFIER_TEST_RUN_ID: `${process.pid}-${Date.now()}` },
    hookTimeout: 60_000,
  },
});
