// `mollifier reshard --to <n>`: the command line of `reshard` (ADR 15), run by the `mollifier` bin
// (`reshard-cli.ts`). An application edge, so it is the one place in this package that builds a
// Redis client, from its arguments.
import { parseArgs } from "node:util";
import { Cluster, Redis } from "ioredis";
import { BufferError } from "./errors.js";
import { DEFAULT_KEY_PREFIX } from "./keys.js";
import { reshard } from "./reshard.js";

const USAGE = `usage: mollifier reshard --to <shards> [--redis <url> | --cluster <host:port>,...] [--prefix <prefix>] [--max-shards <n>]

Moves the buffer to <shards> shards while processes keep accepting and draining. Progress lives in
Redis: if it stops (Ctrl-C, a crash, --max-shards), running it again resumes.
  --to          the new shard count (1-16384)
  --redis       a single Redis (default redis://127.0.0.1:6379)
  --cluster     seed nodes of a Redis Cluster, comma-separated
  --prefix      the buffer's key prefix (default ${DEFAULT_KEY_PREFIX})
  --max-shards  move at most this many old shards, then stop`;

/** Where the command writes, and what stops it (the bin passes the process's streams and SIGINT). */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly signal?: AbortSignal;
}

class UsageError extends Error {}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text))
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Runs `mollifier <argv>` and answers its exit code: 0 done (or paused, or nothing to do), 1 the
 * reshard failed, 2 a usage error.
 */
export async function runMollifierCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      to: { type: "string" },
      redis: { type: "string" },
      cluster: { type: "string" },
      prefix: { type: "string" },
      "max-shards": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== "reshard" || positionals.length !== 1)
    throw new UsageError("the only command is `reshard`");
  const to = positiveInteger("to", values.to);
  if (to === undefined) throw new UsageError("--to is required");
  const maxShards = positiveInteger("max-shards", values["max-shards"]);
  if (values.redis !== undefined && values.cluster !== undefined) {
    throw new UsageError("give --redis or --cluster, not both");
  }
  const redis =
    values.cluster !== undefined
      ? new Cluster(
          values.cluster.split(",").map((node) => {
            const [host, port] = node.trim().split(":");
            return { host: host || "127.0.0.1", port: Number(port ?? 6379) };
          }),
        )
      : new Redis(values.redis ?? "redis://127.0.0.1:6379");
  try {
    const result = await reshard({
      redis,
      to,
      prefix: values.prefix,
      ...(maxShards === undefined ? {} : { maxShards }),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      onProgress: (progress) => {
        if (progress.step === "moved" || progress.step === "started" || progress.step === "finished") {
          const shard = progress.shard === undefined ? "" : ` shard ${progress.shard}`;
          const keys = progress.keys === undefined ? "" : ` (${progress.keys} keys)`;
          io.stdout.write(
            `${progress.step}${shard}${keys}: ${progress.movedShards}/${progress.from} shards moved to the layout of ${progress.to}\n`,
          );
        }
      },
    });
    if (result.outcome === "unchanged")
      io.stdout.write(`already ${result.shardCount} shards; nothing to do\n`);
    if (result.outcome === "paused") {
      io.stdout.write(`paused after ${result.movedShards}/${result.from} shards; run it again to go on\n`);
    }
    if (result.outcome === "completed") io.stdout.write(`done: ${result.from} -> ${result.to} shards\n`);
    return 0;
  } catch (error) {
    const code = BufferError.isInstance(error) ? ` (${error.code})` : "";
    io.stderr.write(`reshard failed${code}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}
