import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // One stack at a time: each scenario runs five processes on a two-core machine.
    maxWorkers: 1,
    minWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
