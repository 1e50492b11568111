import type { BufferContext } from "./buffer-options.js";
import { BufferConfigurationError } from "./errors.js";
import { storeLayoutScript } from "./generated/lua-scripts.js";
import type { ShardRouting } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyOptionalString, taggedReply, UnexpectedReplyError } from "./reply.js";
import { isShardMoved } from "./shard-fence.js";
import { SHARD_TAG_SCHEME } from "./shard-tags.js";

/**
 * Version of the key layout: where every key lives and what every script checks. 1 placed
 * shards under `{<prefix>:<shard>}`; 2 places them on evenly spread slots
 * (`{<prefix>:<shard>:<k>}`, ADR 0010); 3 keeps 2's keys and adds the shard fences a live
 * reshard relies on (ADR 0015), so a release that does not honour them refuses a version 3
 * record. A version 2 record is read as 3 (same keys); `reshard` rewrites it as 3.
 */
export const LAYOUT_VERSION = 3;
/** Stored layout versions this release reads: 2 has the same keys as 3. */
const READABLE_VERSIONS: ReadonlySet<string> = new Set(["2", "3"]);

/** The command that changes a buffer's shard count live (the `mollifier` bin of this package). */
export function reshardCommand(to: number, prefix: string): string {
  return `mollifier reshard --to ${to}${prefix === "mollifier" ? "" : ` --prefix ${prefix}`} --redis <url>`;
}

/** The layout a buffer's keys follow, as stored in `{<prefix>}:layout`. */
export interface BufferLayout {
  readonly version: number;
  readonly tagScheme: string;
  readonly shardCount: number;
}

/** A live reshard in progress, as the layout record holds it. */
export interface ReshardState {
  readonly from: number;
  readonly to: number;
  /** Old shards `0 … movedShards - 1` have moved to the new layout. */
  readonly movedShards: number;
}

/**
 * What `checkLayout` answers: `created` when this process stored the first
 * record, `matched` when the stored one is its own, `resharding` when a live
 * reshard from or to this process's shard count is running (the process
 * follows it). A differing record throws.
 */
export type LayoutCheck =
  | { outcome: "created"; layout: BufferLayout }
  | { outcome: "matched"; layout: BufferLayout }
  | { outcome: "resharding"; layout: BufferLayout; reshard: ReshardState };

/** The layout record's fields, as text (undefined when missing). */
export interface StoredLayout {
  readonly version: string | undefined;
  readonly tagScheme: string | undefined;
  readonly shardCount: string | undefined;
  readonly reshardTo: string | undefined;
  readonly reshardMoved: string | undefined;
}

function describe(layout: { version: unknown; tagScheme: unknown; shardCount: unknown }): string {
  const text = (value: unknown) => (value === undefined ? "(missing)" : String(value));
  return `version ${text(layout.version)}, tag scheme ${text(layout.tagScheme)}, ${text(layout.shardCount)} shards`;
}

/** The layout this process's options give. */
export function configuredLayout(context: BufferContext): BufferLayout {
  return {
    version: LAYOUT_VERSION,
    tagScheme: SHARD_TAG_SCHEME,
    shardCount: context.keys.configuredShardCount,
  };
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]*$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Where orgs live according to a stored record, or undefined when this release cannot route by
 * it (another version or tag scheme, or a malformed count).
 */
export function routingOf(stored: StoredLayout): ShardRouting | undefined {
  if (stored.version === undefined || !READABLE_VERSIONS.has(stored.version)) return undefined;
  if (stored.tagScheme !== SHARD_TAG_SCHEME) return undefined;
  const shardCount = count(stored.shardCount);
  if (shardCount === undefined) return undefined;
  if (stored.reshardTo === undefined) return { shardCount };
  const reshardTo = count(stored.reshardTo);
  const movedShards = stored.reshardMoved === undefined ? 0 : Number(stored.reshardMoved);
  if (reshardTo === undefined || !Number.isInteger(movedShards) || movedShards < 0) return undefined;
  return { shardCount, reshardTo, movedShards };
}

/** Reads the layout record (one `HMGET` on its own slot); undefined when none is stored. */
export async function readStoredLayout(
  context: Pick<BufferContext, "redis" | "keys">,
): Promise<StoredLayout | undefined> {
  const [version, tagScheme, shardCount, reshardTo, reshardMoved] = await context.redis.hmget(
    context.keys.layout(),
    "version",
    "tagScheme",
    "shardCount",
    "reshardTo",
    "reshardMoved",
  );
  if (version === null || version === undefined) return undefined;
  const text = (value: string | null | undefined) => (value === null ? undefined : value);
  return {
    version,
    tagScheme: text(tagScheme),
    shardCount: text(shardCount),
    reshardTo: text(reshardTo),
    reshardMoved: text(reshardMoved),
  };
}

/**
 * Re-reads the layout record and routes this process's keys by it: how a running process
 * follows a live reshard (called when a shard answers that it moved, and at most once per
 * `layoutRefreshMs` on the way). Answers whether the routing changed. A record this release
 * cannot route by leaves the routing as it is.
 */
export async function refreshLayout(context: Pick<BufferContext, "redis" | "keys">): Promise<boolean> {
  const stored = await readStoredLayout(context);
  if (stored === undefined) return false;
  const routing = routingOf(stored);
  return routing === undefined ? false : context.keys.follow(routing);
}

/** Most times one operation is rebuilt after meeting moved shards (a reshard moves each shard once). */
export const MAX_REROUTES = 4;

/**
 * Runs `operation` and, when a shard it touched has moved in a live reshard (`SHARD_MOVED`,
 * refused before anything was written), re-reads the layout and runs it again, rebuilt on the
 * new routing: at most {@link MAX_REROUTES} times. `operation` must build its keys when called.
 */
export function followMovedShards<T>(
  context: Pick<BufferContext, "redis" | "keys">,
  operation: () => Promise<T>,
): Promise<T> {
  const retry = (error: unknown, attempt: number): Promise<T> => {
    if (!isShardMoved(error) || attempt >= MAX_REROUTES) return Promise.reject(error);
    return refreshLayout(context)
      .then(() => operation())
      .catch((next: unknown) => retry(next, attempt + 1));
  };
  return operation().catch((error: unknown) => retry(error, 0));
}

/**
 * Entries of a buffer written by layout version 1 (`{<prefix>:<shard>}:depth`
 * counts them), probed for this process's shard count. Only asked when no
 * layout record exists: version 1 wrote none.
 */
async function legacyEntries(context: BufferContext): Promise<number> {
  const { prefix } = context.keys;
  const shardNumbers = Array.from({ length: context.keys.configuredShardCount }, (_, shard) => shard);
  const totals = await Promise.all(
    shardNumbers.map((shard) => context.redis.hget(`{${prefix}:${shard}}:depth`, "total")),
  );
  return totals.reduce((sum, total) => sum + Math.max(0, Number(total ?? 0) || 0), 0);
}

/**
 * Checks the layout stored in Redis against this process's (layout version,
 * tag scheme, shard count), storing it if none is stored yet, and routes this
 * process's keys by it. Call it once at start, before accepting or draining: a
 * process configured with another shard count would read and write other keys
 * than the fleet's, so it could accept a run twice and never see the other's
 * entries. A differing record (or entries left by layout version 1, which
 * stored no record) throws {@link BufferConfigurationError} (`LAYOUT_MISMATCH`)
 * saying what is stored and how to migrate (`mollifier reshard --to <n>`).
 * While a live reshard from or to this process's shard count runs, it answers
 * `resharding` and the process follows the reshard.
 *
 * @example
 * const buffer = new MollifierBuffer({ redis, shardCount: 16 });
 * await buffer.checkLayout(); // throws LAYOUT_MISMATCH if the fleet runs another layout
 */
export async function checkLayout(context: BufferContext): Promise<LayoutCheck> {
  const layout = configuredLayout(context);
  const layoutKey = context.keys.layout();
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
  if (reply.tag === "created") {
    context.keys.follow({ shardCount: layout.shardCount });
    return { outcome: "created", layout };
  }
  if (reply.tag !== "stored") throw new UnexpectedReplyError(storeLayoutScript.name, raw);
  const fields = replyArray(storeLayoutScript.name, raw);
  const field = (index: number) => replyOptionalString(storeLayoutScript.name, fields[index]);
  const found: StoredLayout = {
    version: field(1),
    tagScheme: field(2),
    shardCount: field(3),
    reshardTo: field(4),
    reshardMoved: field(5),
  };
  const routing = routingOf(found);
  const ownCount = layout.shardCount;
  if (routing !== undefined && routing.reshardTo === undefined && routing.shardCount === ownCount) {
    context.keys.follow(routing);
    return { outcome: "matched", layout };
  }
  if (
    routing?.reshardTo !== undefined &&
    (routing.shardCount === ownCount || routing.reshardTo === ownCount)
  ) {
    context.keys.follow(routing);
    const reshard = {
      from: routing.shardCount,
      to: routing.reshardTo,
      movedShards: routing.movedShards ?? 0,
    };
    return { outcome: "resharding", layout, reshard };
  }
  const { prefix } = context.keys;
  const way =
    routing === undefined
      ? `this release reads layout versions 2 and 3 with tag scheme ${SHARD_TAG_SCHEME}: run the release that wrote it, drain the buffer and delete ${layoutKey}`
      : routing.reshardTo !== undefined
        ? `a reshard from ${routing.shardCount} to ${routing.reshardTo} shards is running (${routing.movedShards ?? 0} moved); start with shardCount ${routing.reshardTo}, or let it finish and then run \`${reshardCommand(ownCount, prefix)}\``
        : `start it with the stored layout (shardCount ${routing.shardCount}), or move the buffer to ${ownCount} shards live with \`${reshardCommand(ownCount, prefix)}\` (entries, leases, retries and idempotency keys move while accepts and drains go on), then start it`;
  throw new BufferConfigurationError(
    "LAYOUT_MISMATCH",
    `the buffer layout stored in Redis (${layoutKey}) is ${describe(found)}${found.reshardTo === undefined ? "" : ` resharding to ${found.reshardTo}`}; this process is configured for ${describe(layout)}. To run it, ${way}`,
  );
}
