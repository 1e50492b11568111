import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    minWorkers: 1,
    passWithNoTests: true, // until this package has its first test
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
