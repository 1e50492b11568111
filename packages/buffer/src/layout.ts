import type { BufferContext } from "./buffer-options.js";
import { BufferConfigurationError } from "./errors.js";
import { storeLayoutScript } from "./generated/lua-scripts.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyOptionalString, taggedReply, UnexpectedReplyError } from "./reply.js";
import { SHARD_TAG_SCHEME } from "./shard-tags.js";

/**
 * Version of the key layout: where every key lives. 1 placed shards under
 * `{<prefix>:<shard>}`; 2 places them on evenly spread slots
 * (`{<prefix>:<shard>:<k>}`, ADR 0010). Any change that moves keys is a new version.
 */
export const LAYOUT_VERSION = 2;

/** The layout a buffer's keys follow, as stored in `{<prefix>}:layout`. */
export interface BufferLayout {
  readonly version: number;
  readonly tagScheme: string;
  readonly shardCount: number;
}

/**
 * What `checkLayout` answers: `created` when this process stored the first
 * record, `matched` when the stored one is its own. A differing record throws.
 */
export type LayoutCheck =
  | { outcome: "created"; layout: BufferLayout }
  | { outcome: "matched"; layout: BufferLayout };

function describe(layout: { version: unknown; tagScheme: unknown; shardCount: unknown }): string {
  return `version ${String(layout.version)}, tag scheme ${String(layout.tagScheme)}, ${String(layout.shardCount)} shards`;
}

/** The layout this process's options give. */
export function configuredLayout(context: BufferContext): BufferLayout {
  return { version: LAYOUT_VERSION, tagScheme: SHARD_TAG_SCHEME, shardCount: context.keys.shardCount };
}

/**
 * Entries of a buffer written by layout version 1 (`{<prefix>:<shard>}:depth`
 * counts them), probed for this process's shard count. Only asked when no
 * layout record exists: version 1 wrote none.
 */
async function legacyEntries(context: BufferContext): Promise<number> {
  const { prefix } = context.keys;
  const totals = await Promise.all(
    context.keys.shards().map((shard) => context.redis.hget(`{${prefix}:${shard}}:depth`, "total")),
  );
  return totals.reduce((sum, total) => sum + Math.max(0, Number(total ?? 0) || 0), 0);
}

/**
 * Checks the layout stored in Redis against this process's (layout version,
 * tag scheme, shard count), storing it if none is stored yet. Call it once at
 * start, before accepting or draining: a process configured with another shard
 * count would read and write other keys than the fleet's, so it could accept a
 * run twice and never see the other's entries. A differing record (or entries
 * left by layout version 1, which stored no record) throws
 * {@link BufferConfigurationError} (`LAYOUT_MISMATCH`) saying what is stored
 * and how to migrate.
 *
 * @example
 * const buffer = new MollifierBuffer({ redis, shardCount: 16 });
 * await buffer.checkLayout(); // throws LAYOUT_MISMATCH if the fleet runs another layout
 */
export async function checkLayout(context: BufferContext): Promise<LayoutCheck> {
  const layout = configuredLayout(context);
  const layoutKey = context.keys.layout();
  const migrate = `to change the layout, drain the buffer and delete ${layoutKey}, or run a reshard once one exists`;
  const stored = await context.redis.exists(layoutKey);
  if (stored === 0) {
    const legacy = await legacyEntries(context);
    if (legacy > 0) {
      throw new BufferConfigurationError(
        "LAYOUT_MISMATCH",
        `Redis holds ${legacy} buffered entries under layout version 1 ({${context.keys.prefix}:<shard>} keys) and no layout record; this process uses ${describe(layout)}. Drain them with the previous release of @mollifier/buffer first`,
      );
    }
  }
  const raw = await runLuaScript(
    context.redis,
    storeLayoutScript,
    [layoutKey],
    [layout.version, layout.tagScheme, layout.shardCount],
  );
  const reply = taggedReply(storeLayoutScript.name, raw);
  if (reply.tag === "created") return { outcome: "created", layout };
  if (reply.tag !== "stored") throw new UnexpectedReplyError(storeLayoutScript.name, raw);
  const fields = replyArray(storeLayoutScript.name, raw);
  const field = (index: number) => replyOptionalString(storeLayoutScript.name, fields[index]) ?? "(missing)";
  const found = { version: field(1), tagScheme: field(2), shardCount: field(3) };
  if (
    found.version === String(layout.version) &&
    found.tagScheme === layout.tagScheme &&
    found.shardCount === String(layout.shardCount)
  ) {
    return { outcome: "matched", layout };
  }
  throw new BufferConfigurationError(
    "LAYOUT_MISMATCH",
    `the buffer layout stored in Redis (${layoutKey}) is ${describe(found)}; this process is configured for ${describe(layout)}. Start it with the stored layout (shardCount ${found.shardCount}); ${migrate}`,
  );
}
