import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    minWorkers: 1,
    // npm installs two projects and every example compiles and runs: minutes, not seconds.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
