import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A `redis-server` this process started; `stop()` ends only that process. */
export interface OwnRedis {
  readonly url: string;
  stop(): Promise<void>;
}

export const NO_REDIS_MESSAGE =
  "No Redis: REDIS_URL is not set and `redis-server` is not on the PATH.\n" +
  "  Either install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`)\n" +
  "  or point the demo at one: REDIS_URL=redis://127.0.0.1:6379 pnpm demo";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a private, non-persistent `redis-server` on a free loopback port. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(NO_REDIS_MESSAGE);
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), "mollifier-demo-redis-"));
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"].concat([
      "--maxmemory-policy",
      "noeviction",
      "--dir",
      directory,
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // However this process ends (an uncaught error included), its private Redis ends with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const deadline = Date.now() + 10_000;
  while (!output.includes("Ready to accept connections")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}:\n${output.slice(-2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
