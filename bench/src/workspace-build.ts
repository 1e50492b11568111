import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Builds the workspace packages the bench imports (everything `@mollifier/bench`
 * depends on, through turbo, so unchanged packages come from its cache).
 * Returns an error text when the build failed; the run then measures whatever
 * `dist` is there and says so in the results.
 */
export function buildWorkspacePackages(filters: readonly string[]): string | undefined {
  const result = spawnSync(
    "pnpm",
    [
      "exec",
      "turbo",
      "run",
      "build",
      ...filters.map((filter) => `--filter=${filter}`),
      "--output-logs=errors-only",
      "--log-prefix=none",
    ],
    { cwd: repositoryRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  if (result.status === 0) return undefined;
  const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim();
  return output.split("\n").slice(-20).join("\n") || `exit status ${result.status}`;
}
