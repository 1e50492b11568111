import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const execFileAsync = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));

test("without redis-server, Docker or REDIS_URL the kit fails at once and says how to get a Redis", async () => {
  const script = `
    const { acquireRedisEndpoint } = await import("./dist/redis-endpoint.js");
    try { await acquireRedisEndpoint(); console.log("ACQUIRED"); }
    catch (error) { console.log(error.message); }
  `;
  const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: packageDir,
    // An empty PATH hides redis-server and docker; REDIS_URL is removed.
    env: { PATH: "/nonexistent", HOME: process.env.HOME ?? "/tmp" },
    timeout: 20_000,
  });
  expect(stdout).not.toContain("ACQUIRED");
  expect(stdout).toContain("No Redis available");
  expect(stdout).toContain("apt-get install redis-server");
  expect(stdout).toContain("REDIS_URL=");
});
