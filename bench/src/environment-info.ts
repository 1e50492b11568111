import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";

/** The machine a run measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  /** 1-minute load average when the run started and when it ended. */
  readonly loadAverageAtStart: number;
  loadAverageAtEnd?: number;
}

/** Versions of everything measured. */
export interface VersionInfo {
  readonly node: string;
  readonly redis: string;
  readonly redisBenchmark: string;
  readonly gitCommit: string;
  /** Files under packages/ and apps/ that differ from the commit (the build measures the working tree). */
  readonly uncommittedPackageFiles: number;
  readonly packages: Record<string, string>;
}

const benchDirectory = join(dirname(fileURLToPath(import.meta.url)), "..");

/** CPU model, cores, memory and the load average now. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg()[0] ?? Number.NaN,
  };
}

function packageVersion(name: string): string {
  try {
    // Every measured package is a direct dependency of the bench (workspace ones are symlinks).
    const manifest = JSON.parse(
      readFileSync(join(benchDirectory, "node_modules", name, "package.json"), "utf8"),
    ) as {
      version?: string;
    };
    return manifest.version ?? "unknown";
  } catch {
    return "not installed";
  }
}

function commandOutput(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unavailable";
  }
}

/** Node, Redis, redis-benchmark, git commit and every measured package. */
export async function versionInfo(redis: Redis): Promise<VersionInfo> {
  const server = await redis.info("server");
  const redisVersion = /redis_version:(\S+)/.exec(server)?.[1] ?? "unknown";
  const packages: Record<string, string> = {};
  for (const name of [
    "@mollifier/buffer",
    "@mollifier/gate",
    "@mollifier/drainer",
    "bullmq",
    "rate-limiter-flexible",
    "ioredis",
  ]) {
    packages[name] = packageVersion(name);
  }
  return {
    node: process.version,
    redis: redisVersion,
    redisBenchmark: commandOutput("redis-benchmark", ["--version"]),
    gitCommit: commandOutput("git", ["-C", benchDirectory, "rev-parse", "--short", "HEAD"]),
    uncommittedPackageFiles: commandOutput("git", [
      "-C",
      join(benchDirectory, ".."),
      "status",
      "--porcelain",
      "--",
      "packages",
      "apps",
    ])
      .split("\n")
      .filter((line) => line.trim().length > 0 && line !== "unavailable").length,
    packages,
  };
}
