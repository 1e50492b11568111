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
 * passes another number of keys or arguments does not compile. A script with
 * a variadic key tail (`VariadicKeys`) takes at least `Keys` keys.
 */
export interface LuaScript<
  Keys extends number,
  Argv extends number,
  Variadic extends boolean,
  VariadicKeys extends boolean = false,
> {
  readonly name: string;
  readonly numberOfKeys: Keys;
  readonly argvCount: Argv;
  readonly variadicArgv: Variadic;
  readonly variadicKeys: VariadicKeys;
  /** SHA1 of the body; the body embeds the package name and version. */
  readonly sha1: string;
  readonly body: string;
}

/** Only for generated modules: keeps the literal key and argument counts. */
export function defineLuaScript<
  const Keys extends number,
  const Argv extends number,
  const Variadic extends boolean,
  const VariadicKeys extends boolean,
>(script: LuaScript<Keys, Argv, Variadic, VariadicKeys>): LuaScript<Keys, Argv, Variadic, VariadicKeys> {
  return Object.freeze(script);
}

/** The arguments a script takes: exactly its documented ARGV, plus a tail when variadic. */
export type LuaArguments<Argv extends number, Variadic extends boolean> = Variadic extends true
  ? [...Tuple<LuaArgument, Argv>, ...LuaArgument[]]
  : Tuple<LuaArgument, Argv>;

/** The keys a script takes: exactly its documented KEYS, plus a tail when its key list is variadic. */
export type LuaKeys<Keys extends number, VariadicKeys extends boolean> = VariadicKeys extends true
  ? [...Tuple<string, Keys>, ...string[]]
  : Tuple<string, Keys>;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * Runs a script by SHA (`EVALSHA`); on `NOSCRIPT` (a fresh server, a failover,
 * `SCRIPT FLUSH`, or a cluster node that has not seen it yet) sends the body
 * with `EVAL`, which also caches it. Returns the raw reply for the script's
 * wrapper to parse.
 */
export async function runLuaScript<
  Keys extends number,
  Argv extends number,
  Variadic extends boolean,
  VariadicKeys extends boolean = false,
>(
  client: RedisClient,
  script: LuaScript<Keys, Argv, Variadic, VariadicKeys>,
  keys: Readonly<LuaKeys<Keys, VariadicKeys>> & readonly string[],
  args: Readonly<LuaArguments<Argv, Variadic>> & readonly LuaArgument[],
): Promise<unknown> {
  const flat: LuaArgument[] = [];
  for (const key of keys as readonly string[]) flat.push(key);
  for (const arg of args as readonly LuaArgument[]) flat.push(arg);
  // The typed key list has exactly `numberOfKeys` keys, or more for a variadic tail.
  const numberOfKeys = keys.length;
  try {
    return await client.evalsha(script.sha1, numberOfKeys, ...flat);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return await client.eval(script.body, numberOfKeys, ...flat);
  }
}
