#!/usr/bin/env node
// `mollifier reshard --to <n>`: the command line of `reshard` (ADR 15). An application edge, so
// it is the one place in this package that builds a Redis client, from its arguments.
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

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) fail(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
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
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== "reshard" || positionals.length !== 1) fail("the only command is `reshard`");
  const to = positiveInteger("to", values.to) ?? fail("--to is required");
  if (values.redis !== undefined && values.cluster !== undefined) fail("give --redis or --cluster, not both");
  const redis =
    values.cluster !== undefined
      ? new Cluster(
          values.cluster.split(",").map((node) => {
            const [host, port] = node.trim().split(":");
            return { host: host || "127.0.0.1", port: Number(port ?? 6379) };
          }),
        )
      : new Redis(values.redis ?? "redis://127.0.0.1:6379");
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("stopping after the current step (run the command again to resume)\n");
    controller.abort(new Error("interrupted"));
  });
  try {
    const result = await reshard({
      redis,
      to,
      prefix: values.prefix,
      maxShards: positiveInteger("max-shards", values["max-shards"]),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.step === "moved" || progress.step === "started" || progress.step === "finished") {
          const shard = progress.shard === undefined ? "" : ` shard ${progress.shard}`;
          const keys = progress.keys === undefined ? "" : ` (${progress.keys} keys)`;
          process.stdout.write(
            `${progress.step}${shard}${keys}: ${progress.movedShards}/${progress.from} shards moved to the layout of ${progress.to}\n`,
          );
        }
      },
    });
    if (result.outcome === "unchanged")
      process.stdout.write(`already ${result.shardCount} shards; nothing to do\n`);
    if (result.outcome === "paused") {
      process.stdout.write(
        `paused after ${result.movedShards}/${result.from} shards; run it again to go on\n`,
      );
    }
    if (result.outcome === "completed") process.stdout.write(`done: ${result.from} -> ${result.to} shards\n`);
    return 0;
  } catch (error) {
    const code = BufferError.isInstance(error) ? ` (${error.code})` : "";
    process.stderr.write(
      `reshard failed${code}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  } finally {
    redis.disconnect();
  }
}

process.exitCode = await main(process.argv.slice(2));
