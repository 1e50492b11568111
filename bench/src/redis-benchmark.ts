import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Options of {@link runRedisBenchmark}. */
export interface RedisBenchmarkOptions {
  readonly host: string;
  readonly port: number;
  readonly requests: number;
  readonly clients: number;
  readonly pipeline: number;
  /** `-r`: range of the numbers substituted for `__rand_int__`. */
  readonly randomRange: number;
  /** The command and its arguments. */
  readonly command: readonly string[];
}

/** Requests per second `redis-benchmark` measured for one command. */
export async function runRedisBenchmark(options: RedisBenchmarkOptions): Promise<number> {
  const { stdout } = await execFileAsync(
    "redis-benchmark",
    [
      "-h",
      options.host,
      "-p",
      String(options.port),
      "-n",
      String(options.requests),
      "-c",
      String(options.clients),
      "-P",
      String(options.pipeline),
      "-r",
      String(options.randomRange),
      "--csv",
      ...options.command,
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 180_000 },
  );
  // CSV: a header line, then `"<test>","<rps>",<six latency columns>`. The test
  // name is the command line, whose JSON is not escaped, so read from the end.
  const last = stdout.trim().split("\n").at(-1) ?? "";
  const trailing = /"([\d.]+)"(?:,"[\d.]+"){6}\s*$/.exec(last);
  const requestsPerSecond = Number(trailing?.[1]);
  if (!Number.isFinite(requestsPerSecond)) {
    throw new Error(`could not read redis-benchmark's output: ${stdout.slice(-500)}`);
  }
  return requestsPerSecond;
}
