import type { Cluster, Redis } from "ioredis";

/** The clients Mollifier accepts: a single Redis or a Redis Cluster (ioredis). */
export type RedisClient = Redis | Cluster;

type BuildTuple<T, N extends number, Acc extends T[] = []> = Acc["length"] extends N
  ? Acc
  : BuildTuple<T, N, [...Acc, T]>;

/** A tuple of exactly `N` elements (`N` a literal up to a few dozen). */
export type Tuple<T, N extends number> = number extends N ? T[] : BuildTuple<T, N>;

/** One ARGV value; numbers are sent as their decimal text. */
export type LuaArgument = string | number | Buffer;

/**
 * A Lua script produced by `scripts/build-lua.mjs` from `lua/<name>-<keys>.lua`.
 * `Keys` and `Argv` are the counts its header documents, so a wrapper that
 * passes another number of keys or arguments does not compile.
 */
export interface LuaScript<Keys extends number, Argv extends number, Variadic extends boolean> {
  readonly name: string;
  readonly numberOfKeys: Keys;
  readonly argvCount: Argv;
  readonly variadicArgv: Variadic;
  /** SHA1 of the body; the body embeds the package name and version. */
  readonly sha1: string;
  readonly body: string;
}

/** Only for generated modules: keeps the literal key and argument counts. */
export function defineLuaScript<
  const Keys extends number,
  const Argv extends number,
  const Variadic extends boolean,
>(script: LuaScript<Keys, Argv, Variadic>): LuaScript<Keys, Argv, Variadic> {
  return Object.freeze(script);
}

/** The arguments a script takes: exactly its documented ARGV, plus a tail when variadic. */
export type LuaArguments<Argv extends number, Variadic extends boolean> = Variadic extends true
  ? [...Tuple<LuaArgument, Argv>, ...LuaArgument[]]
  : Tuple<LuaArgument, Argv>;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * Runs a script by SHA (`EVALSHA`); on `NOSCRIPT` (a fresh server, a failover,
 * `SCRIPT FLUSH`, or a cluster node that has not seen it yet) sends the body
 * with `EVAL`, which also caches it. Returns the raw reply for the script's
 * wrapper to parse.
 */
export async function runLuaScript<Keys extends number, Argv extends number, Variadic extends boolean>(
  client: RedisClient,
  script: LuaScript<Keys, Argv, Variadic>,
  keys: Readonly<Tuple<string, Keys>> & readonly string[],
  args: Readonly<LuaArguments<Argv, Variadic>> & readonly LuaArgument[],
): Promise<unknown> {
  const flat: LuaArgument[] = [];
  for (const key of keys as readonly string[]) flat.push(key);
  for (const arg of args as readonly LuaArgument[]) flat.push(arg);
  try {
    return await client.evalsha(script.sha1, script.numberOfKeys, ...flat);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return await client.eval(script.body, script.numberOfKeys, ...flat);
  }
}
