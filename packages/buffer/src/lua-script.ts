// The Lua runtime lives in @mollifier/core, shared with the gate and the drainer; the buffer's
// operation modules and its generated scripts import it through this one module, which adds the
// shard fence of a live reshard (ADR 15) to every script that touches a shard.
import {
  type LuaArguments,
  type LuaKeys,
  type LuaScript,
  type RedisClient,
  runLuaScript as runCoreLuaScript,
} from "@mollifier/core";
import { BufferReshardError } from "./errors.js";
import { fenceRefusal, withFenceKeys } from "./shard-fence.js";

export {
  defineLuaScript,
  type LuaArgument,
  type LuaArguments,
  type LuaKeys,
  type LuaScript,
  type RedisClient,
  type Tuple,
} from "@mollifier/core";

/** Scripts that touch no shard (the layout record, the reshard's own bookkeeping): never fenced. */
const UNFENCED_SCRIPTS: ReadonlySet<string> = new Set(["store-layout", "reshard-lock", "reshard-add-total"]);
/** Longest a call waits for a shard that a reshard is moving before it gives up. */
export const RESHARD_WAIT_MS = 60_000;
const FIRST_WAIT_MS = 5;
const LONGEST_WAIT_MS = 200;

/** Whether the buffer appends shard fence keys to `script`'s calls. */
export function isFencedScript(name: string): boolean {
  return !UNFENCED_SCRIPTS.has(name);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a buffer script (see `@mollifier/core`'s `runLuaScript`) with the fence key of each shard
 * its keys belong to. A shard a reshard is moving refuses the call before touching anything: it
 * is sent again after a short wait (5 ms doubling to 200 ms, for up to {@link RESHARD_WAIT_MS}).
 * A shard that has moved throws {@link BufferReshardError} `SHARD_MOVED`: the keys were built for
 * the old layout, so the operation must be rebuilt (`MollifierBuffer` re-reads the layout and
 * retries it).
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
  if (!isFencedScript(script.name)) return runCoreLuaScript(client, script, keys, args);
  // The fence keys follow the script's own; the script pops them (lua/includes/shard-fence.lua).
  const fenced = withFenceKeys(keys) as unknown as typeof keys;
  let waitMs = FIRST_WAIT_MS;
  let waited = 0;
  for (;;) {
    try {
      return await runCoreLuaScript(client, script, fenced, args);
    } catch (error) {
      const refusal = fenceRefusal(error);
      if (refusal === undefined) throw error;
      if (refusal.state === "moved") {
        throw new BufferReshardError(
          "SHARD_MOVED",
          `${script.name}: the shard of ${keys[0]} moved in reshard ${refusal.reshard}; re-read the layout and retry`,
          { cause: error },
        );
      }
      if (waited >= RESHARD_WAIT_MS) {
        throw new BufferReshardError(
          "RESHARD_IN_PROGRESS",
          `${script.name}: the shard of ${keys[0]} was still being moved by reshard ${refusal.reshard} after ${RESHARD_WAIT_MS} ms`,
          { cause: error },
        );
      }
      await sleep(waitMs);
      waited += waitMs;
      waitMs = Math.min(waitMs * 2, LONGEST_WAIT_MS);
    }
  }
}

type LuaArgument = import("@mollifier/core").LuaArgument;
