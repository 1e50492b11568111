import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The one `redis-server` a bench run owns. */
export interface BenchRedisServer {
  readonly host: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (chunk) => {
      socket.destroy();
      resolve(chunk.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function launch(port: number, directory: string): Promise<ChildProcess> {
  // Persistence off so no fork or fsync competes with the measurement;
  // noeviction because the buffer refuses anything else.
  const child = spawn(
    "redis-server",
    [
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
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    if (output.length < 8_000) output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await answersPing(port)) return child;
    await sleep(20);
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server on port ${port} did not start:\n${output}`);
}

/**
 * Starts a fresh `redis-server` on a free loopback port, persistence off,
 * `maxmemory-policy noeviction`. Retries with another port when the picked one
 * was taken before Redis bound it.
 */
export async function startBenchRedis(): Promise<BenchRedisServer> {
  const directory = mkdtempSync(join(tmpdir(), "mollifier-bench-redis-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    try {
      const child = await launch(port, directory);
      const onExit = () => child.kill("SIGKILL");
      process.once("exit", onExit);
      return {
        host: HOST,
        port,
        async stop() {
          process.off("exit", onExit);
          if (child.exitCode === null) {
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
            await exited;
            clearTimeout(timer);
          }
          rmSync(directory, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(directory, { recursive: true, force: true });
  throw lastError;
}
