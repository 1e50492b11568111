import { type Cluster, Command, type Redis } from "ioredis";

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

/**
 * Only for generated modules (`scripts/build-lua.mjs`): freezes a script and
 * keeps its literal key and argument counts in its type.
 */
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

const NOSCRIPT = /\bNOSCRIPT\b/;
// Wrappers nest a few levels at most; the bound only guards against a cyclic chain.
const MAX_WRAPPING_DEPTH = 8;

/**
 * Whether `error` is Redis's `NOSCRIPT` reply, however the client wrapped it:
 * the text may sit anywhere in the message (ioredis prefixes it in a
 * cluster's redirected or pipelined replies), or in a wrapping error's
 * `cause` chain or a cluster's `lastNodeError`.
 */
export function isNoScriptError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_WRAPPING_DEPTH; depth++) {
    if (typeof current !== "object" || current === null) return false;
    const { message, cause, lastNodeError } = current as {
      message?: unknown;
      cause?: unknown;
      lastNodeError?: unknown;
    };
    if (typeof message === "string" && NOSCRIPT.test(message)) return true;
    current = cause ?? lastNodeError;
  }
  return false;
}

/**
 * Runs a script by SHA (`EVALSHA`); on `NOSCRIPT` (a fresh server, a failover,
 * `SCRIPT FLUSH`, or a cluster node that has not seen it yet) sends the body
 * with `EVAL`, which also caches it. Returns the raw reply for the script's
 * wrapper to parse. On a cluster client with `enableAutoPipelining` the script
 * is sent outside the auto-pipeline, which cannot place scripts (ioredis#2109).
 *
 * @example
 * const reply = await runLuaScript(redis, acceptScript, keys, args);
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
    return await sendScript(client, "evalsha", script.sha1, numberOfKeys, flat);
  } catch (error) {
    if (!isNoScriptError(error)) throw error;
    return await sendScript(client, "eval", script.body, numberOfKeys, flat);
  }
}

function sendScript(
  client: RedisClient,
  command: "evalsha" | "eval",
  script: string,
  numberOfKeys: number,
  flat: readonly LuaArgument[],
): Promise<unknown> {
  if (client.isCluster && client.options.enableAutoPipelining) {
    // A cluster client's auto-pipelining places a command by its first argument, for a script
    // the SHA or the body instead of a key, and then refuses the batch ("All keys in the
    // pipeline should belong to the same slots allocation group", ioredis#2109). Sent as a
    // plain command, the script is placed by its keys like any other.
    const plain = new Command(command, [script, numberOfKeys, ...flat], {
      replyEncoding: "utf8",
      keyPrefix: client.options.keyPrefix,
    });
    client.sendCommand(plain);
    return plain.promise;
  }
  return command === "evalsha"
    ? client.evalsha(script, numberOfKeys, ...flat)
    : client.eval(script, numberOfKeys, ...flat);
}
