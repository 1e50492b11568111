import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A `redis-server` process this test kit started and owns. */
export interface RedisServerProcess {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL); the port stays reserved for {@link start}. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash does: nothing is flushed or handed over. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, empty. */
  start(): Promise<void>;
  /** Stops the server and removes its working directory. */
  dispose(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `["--cluster-enabled", "yes"]`. */
  readonly extraArgs?: readonly string[];
  /** Port to bind; a free loopback port when omitted. */
  readonly port?: number;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;

let cachedBinaryCheck: boolean | undefined;

/** Whether a `redis-server` binary is on the PATH. */
export function hasRedisServerBinary(): boolean {
  if (cachedBinaryCheck === undefined) {
    const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
    cachedBinaryCheck = probe.error === undefined && probe.status === 0;
  }
  return cachedBinaryCheck;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a probe socket"));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port `p` whose cluster bus port `p + 10000` is free as well.
 * Redis Cluster needs both.
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if ((await isPortFree(port)) && (await isPortFree(port + 10_000))) return port;
  }
  throw new Error("no free port pair (p, p + 10000) found for a Redis Cluster node");
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = "";
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) {
        socket.destroy();
        resolve(reply.startsWith("+PONG"));
      }
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Stops a server this kit started: `signal` first, SIGKILL after `graceMs`;
 * resolves once it has exited (at once when it is not running).
 */
export async function stopChild(
  running: ChildProcess | undefined,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (running === undefined || running.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
  running.kill(signal);
  const timer = setTimeout(() => running.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns a private `redis-server` on a loopback port with persistence off and
 * `maxmemory-policy noeviction` (what the buffer requires). The returned handle
 * stops only this process.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerProcess> {
  if (!hasRedisServerBinary()) {
    throw new Error(noRedisMessage("redis-server is not on the PATH"));
  }
  const directory = await mkdtemp(join(tmpdir(), "mollifier-redis-"));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      "--port",
      String(port),
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "no",
      "--dir",
      directory,
      ...(options.extraArgs ?? []),
    ];
    const process = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    process.stdout?.on("data", (chunk: Buffer) => {
      if (output.length < 8_000) output += chunk.toString();
    });
    process.stderr?.on("data", (chunk: Buffer) => {
      if (output.length < 8_000) output += chunk.toString();
    });
    let exited = false;
    process.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) break;
      if (await ping(port)) {
        child = process;
        return;
      }
      await sleep(20);
    }
    process.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not start:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    await stopChild(running, "SIGTERM", 3_000);
  };

  // A port picked as free can be taken before redis binds it; pick again.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) {
        await rm(directory, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    host: HOST,
    get port() {
      return port;
    },
    get url() {
      return `redis://${HOST}:${port}`;
    },
    stop,
    async kill() {
      const running = child;
      child = undefined;
      await stopChild(running, "SIGKILL", 0);
    },
    start: launch,
    async dispose() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The message every fixture gives when it cannot get a Redis. */
export function noRedisMessage(detail: string): string {
  return [
    `No Redis available for the test suite (${detail}).`,
    "Get one of:",
    "  - redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)",
    "  - a running Docker engine (the kit then starts redis through @testcontainers/redis)",
    "  - REDIS_URL=redis://host:port pointing at a Redis you can flush (each test worker uses its own database index)",
  ].join("\n");
}
