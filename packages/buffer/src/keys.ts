/**
 * The buffer's key builder: every Redis key and every composite member the
 * buffer (and the gate, which shares the layout) uses comes from here.
 *
 * ## Key map
 *
 * Everything that belongs to one org lives in that org's shard, under one hash
 * tag `{<prefix>:<shard>:<k>}` (written `T` below), so every script's keys fall
 * in one cluster slot. `shard = fnv1a32(orgId) mod shardCount`. `k` is the
 * smallest integer that places shard `i` on the centre slot of range `i` of an
 * even split of the 16,384 slots (see `shard-tags.ts`, ADR 0010), so shards
 * spread evenly over masters that own even slot ranges. This is layout
 * version 2; the layout record `{<prefix>}:layout` (see `layout.ts`) stores the
 * version, tag scheme and shard count, and a process configured differently
 * refuses to start. `<org>`, `<env>`,
 * `<run>`, `<task>` and `<key>` are caller-supplied ids, each passed through
 * {@link encodeSegment}, so they never contain `:`, `{`, `}` or non-ASCII bytes.
 *
 * | key                                   | type   | holds                                                                  |
 * |---------------------------------------|--------|------------------------------------------------------------------------|
 * | `T:orgs`                              | SET    | orgs of the shard with at least one entry ready to lease               |
 * | `T:org-envs:<org>`                    | SET    | envs of the org with at least one entry ready to lease                 |
 * | `T:queue:<org>:<env>`                 | LIST   | run ids ready to lease, oldest at the head                             |
 * | `T:entries:<org>:<env>`               | HASH   | the entry record of each run: `<run>`, `<run>:<name>` (see below)      |
 * | `T:leases`                            | ZSET   | `<org>:<env>:<run>` scored by lease deadline (ms, Redis `TIME`)        |
 * | `T:retries`                           | ZSET   | `<org>:<env>:<run>` scored by the time the retry is due (ms)           |
 * | `T:depth`                             | HASH   | `total`, `org:<org>`, `env:<org>:<env>` → entries buffered (any state) |
 * | `T:failed:<org>:<env>:<run>`          | HASH   | a terminally failed entry, kept for inspection, with a TTL             |
 * | `T:failed-index:<org>:<env>`          | ZSET   | the env's runs with a FAILED record, scored by failedAt (ms); trimmed  |
 * |                                       |        | to `failedRetentionMs` and expiring with its records (`listFailed`)    |
 * | `T:unreported`                        | ZSET   | `<org>:<env>:<run>` failed by the buffer itself, scored by the time    |
 * |                                       |        | its report is due (again) until settled (see `unreported.ts`)          |
 * | `T:idem:<org>:<env>:<task>:<key>`     | STRING | run id of the buffered run holding this idempotency key                |
 * | `T:claim:<org>:<env>:<task>:<key>`    | HASH   | an idempotency claim: owner token, state, run id; with a TTL           |
 * | `T:gate:<org>:<env>`                  | —      | prefix of the gate's per-env trip-evaluator keys (owned by the gate)   |
 * | `{<prefix>:global}:gate`              | —      | prefix of the gate's fleet-wide budget keys (owned by the gate); a     |
 * |                                       |        | budget spread over parts uses `{<prefix>:global:<i>:<k>}:gate` (ADR 14) |
 * | `{<prefix>}:layout`                   | HASH   | the layout record: `version`, `tagScheme`, `shardCount` (+ reshard)    |
 * | `T:fence`                             | STRING | set by a live reshard: `moving <n>><m>`, then `moved <n>><m>` (ADR 15) |
 * | `T:reshard-in`                        | HASH   | a reshard's depth totals already added to this shard, per old shard    |
 * | `{<prefix>}:reshard-lock`             | STRING | the token of the running `reshard` (with a TTL)                        |
 *
 * Composite members (`<org>:<env>:<run>`) are built and split only here. The
 * fields of an entries hash are defined once, in `lua/entry-record.json` (the
 * entry record; the build generates its Lua include and `generated/entry-record.ts`).
 */

import { decodeSegment, encodeSegment, fnv1a32 } from "./key-segments.js";
import { shardTags } from "./shard-tags.js";

export {
  decodeSegment,
  encodeSegment,
  fnv1a32,
  InvalidKeySegmentError,
  MAX_SEGMENT_BYTES,
} from "./key-segments.js";

/** Default key prefix. */
export const DEFAULT_KEY_PREFIX = "mollifier";
/** Default number of shards; each shard is one hash slot. */
export const DEFAULT_SHARD_COUNT = 16;
/** Most (org, env) pairs whose keys {@link BufferKeys.env} remembers. */
const ENV_KEYS_MEMO_LIMIT = 10_000;
/** Options of {@link BufferKeys}. */
export interface BufferKeysOptions {
  /**
   * Prefix of every key. Letters, digits, `_`, `.` and `-` only.
   * @default "mollifier"
   */
  prefix?: string;
  /**
   * Number of shards (hash slots) orgs are spread over. Changing it moves orgs
   * between shards: the layout record refuses a process whose count differs
   * from the stored one (see `MollifierBuffer.checkLayout`).
   * @default 16
   */
  shardCount?: number;
}

/** The keys of one shard. */
export interface ShardKeys {
  readonly shard: number;
  /** The hash tag every key of this shard carries, `{prefix:shard:k}` (see `shard-tags.ts`). */
  readonly tag: string;
  readonly orgs: string;
  readonly leases: string;
  readonly retries: string;
  readonly depth: string;
  /** Failures the buffer made itself (reaped, invalid) whose report is not yet settled. */
  readonly unreported: string;
}

/** The keys and ids of one (org, env) pair. */
export interface EnvKeys extends ShardKeys {
  readonly org: string;
  readonly env: string;
  readonly orgEnvs: string;
  readonly queue: string;
  readonly entries: string;
  /** The env's FAILED index: its runs with a FAILED record, by failure time. */
  readonly failedIndex: string;
  /** Field of {@link ShardKeys.depth} counting the org's entries. */
  readonly orgDepthField: string;
  /** Field of {@link ShardKeys.depth} counting the env's entries. */
  readonly envDepthField: string;
  /** Prefix for the gate's per-env keys, inside the same slot. */
  readonly gatePrefix: string;
}

/** A decoded `<org>:<env>:<run>` member of the lease or retry set. */
export interface EntryAddress {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
}

/**
 * Where orgs live: a stable layout of `shardCount` shards, or, while a live reshard runs
 * (ADR 15), the layout being left (`shardCount`) and the one being filled (`reshardTo`), with
 * the old shards `0 … movedShards - 1` already moved.
 */
export interface ShardRouting {
  readonly shardCount: number;
  readonly reshardTo?: number;
  readonly movedShards?: number;
}

function buildShardKeys(prefix: string, shardCount: number, firstId: number): ShardKeys[] {
  return shardTags(prefix, shardCount).map((tag, index) =>
    Object.freeze({
      shard: firstId + index,
      tag,
      orgs: `${tag}:orgs`,
      leases: `${tag}:leases`,
      retries: `${tag}:retries`,
      depth: `${tag}:depth`,
      unreported: `${tag}:unreported`,
    }),
  );
}

function checkShardCount(name: string, shardCount: unknown): number {
  if (
    typeof shardCount !== "number" ||
    !Number.isInteger(shardCount) ||
    shardCount < 1 ||
    shardCount > 16_384
  ) {
    throw new TypeError(`${name} must be an integer from 1 to 16384, got ${String(shardCount)}`);
  }
  return shardCount;
}

/**
 * Builds every key of the buffer's data model. Pure; the first instance for a
 * `(prefix, shardCount)` in a process computes the shard tags (tens of
 * microseconds per shard), later ones reuse them. One instance per buffer configuration.
 *
 * Shard numbers are ids of the shards in use: `0 … shardCount - 1` in a stable layout. While a
 * reshard runs ({@link BufferKeys.follow}), the old layout's shards keep `0 … shardCount - 1` and
 * the new layout's shard `j` is `shardCount + j`; {@link BufferKeys.shards} lists the old shards
 * not yet moved and every new one, and {@link BufferKeys.shardOf} answers where an org lives now.
 */
export class BufferKeys {
  readonly prefix: string;

  constructor(options: BufferKeysOptions = {}) {
    const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
      throw new TypeError(`prefix must match [A-Za-z0-9_.-]+, got ${JSON.stringify(prefix)}`);
    }
    const shardCount = checkShardCount("shardCount", options.shardCount ?? DEFAULT_SHARD_COUNT);
    this.prefix = prefix;
    this.configuredShardCount = shardCount;
    this.routingState = { shardCount };
    this.shardKeys = buildShardKeys(prefix, shardCount, 0);
  }

  /** The shard count this instance was built with (the process's configuration). */
  readonly configuredShardCount: number;
  private routingState: ShardRouting;
  // Built once per layout: the tags come from a search (shard-tags.ts), and shard keys are read on every sweep.
  private shardKeys: readonly ShardKeys[];

  // Env keys are rebuilt on every accept and lease; a bounded memo keeps the
  // hot paths from re-encoding the same ids. Entries are frozen, so sharing is safe.
  private readonly envKeysMemo = new Map<string, Map<string, EnvKeys>>();
  private envKeysMemoSize = 0;

  /** Number of shards orgs are spread over: the stable layout's, or the one a running reshard leaves. */
  get shardCount(): number {
    return this.routingState.shardCount;
  }

  /** Where orgs live now (see {@link ShardRouting}). */
  get routing(): ShardRouting {
    return this.routingState;
  }

  /**
   * Routes to `routing` from now on (the layout record read by `checkLayout` or re-read after a
   * shard moved). Answers whether anything changed; env keys built before are forgotten.
   */
  follow(routing: ShardRouting): boolean {
    const shardCount = checkShardCount("shardCount", routing.shardCount);
    const reshardTo =
      routing.reshardTo === undefined ? undefined : checkShardCount("reshardTo", routing.reshardTo);
    const movedShards =
      reshardTo === undefined ? 0 : Math.max(0, Math.min(shardCount, routing.movedShards ?? 0));
    const current = this.routingState;
    if (
      current.shardCount === shardCount &&
      current.reshardTo === reshardTo &&
      (current.movedShards ?? 0) === movedShards
    ) {
      return false;
    }
    const shardKeys = buildShardKeys(this.prefix, shardCount, 0);
    if (reshardTo !== undefined) shardKeys.push(...buildShardKeys(this.prefix, reshardTo, shardCount));
    this.shardKeys = shardKeys;
    this.routingState = reshardTo === undefined ? { shardCount } : { shardCount, reshardTo, movedShards };
    this.envKeysMemo.clear();
    this.envKeysMemoSize = 0;
    return true;
  }

  /** The shard an org lives in. */
  shardOf(orgId: string): number {
    encodeSegment(orgId, "orgId");
    const hash = fnv1a32(orgId);
    const { shardCount, reshardTo, movedShards } = this.routingState;
    const shard = hash % shardCount;
    if (reshardTo === undefined || shard >= (movedShards ?? 0)) return shard;
    return shardCount + (hash % reshardTo);
  }

  /** The shards in use: `0 … shardCount - 1`, or during a reshard the old shards not yet moved and every new one. */
  shards(): number[] {
    const { shardCount, reshardTo, movedShards } = this.routingState;
    if (reshardTo === undefined) return Array.from({ length: shardCount }, (_, shard) => shard);
    const moved = movedShards ?? 0;
    return Array.from({ length: shardCount - moved + reshardTo }, (_, index) => moved + index);
  }

  shard(shard: number): ShardKeys {
    const keys = this.shardKeys[shard];
    if (keys === undefined) {
      throw new RangeError(`shard must be an integer from 0 to ${this.shardKeys.length - 1}, got ${shard}`);
    }
    return keys;
  }

  /** Keys for an org's set of active envs. */
  orgEnvs(orgId: string): string {
    const shard = this.shard(this.shardOf(orgId));
    return `${shard.tag}:org-envs:${encodeSegment(orgId, "orgId")}`;
  }

  env(orgId: string, envId: string): EnvKeys {
    const memoized = this.envKeysMemo.get(orgId)?.get(envId);
    if (memoized !== undefined) return memoized;
    const keys = Object.freeze(this.buildEnv(orgId, envId));
    if (this.envKeysMemoSize >= ENV_KEYS_MEMO_LIMIT) {
      this.envKeysMemo.clear();
      this.envKeysMemoSize = 0;
    }
    let envs = this.envKeysMemo.get(orgId);
    if (envs === undefined) {
      envs = new Map();
      this.envKeysMemo.set(orgId, envs);
    }
    envs.set(envId, keys);
    this.envKeysMemoSize += 1;
    return keys;
  }

  private buildEnv(orgId: string, envId: string): EnvKeys {
    const shard = this.shard(this.shardOf(orgId));
    const org = encodeSegment(orgId, "orgId");
    const env = encodeSegment(envId, "envId");
    return {
      ...shard,
      org,
      env,
      orgEnvs: `${shard.tag}:org-envs:${org}`,
      queue: `${shard.tag}:queue:${org}:${env}`,
      entries: `${shard.tag}:entries:${org}:${env}`,
      failedIndex: `${shard.tag}:failed-index:${org}:${env}`,
      orgDepthField: `org:${org}`,
      envDepthField: `env:${org}:${env}`,
      gatePrefix: `${shard.tag}:gate:${org}:${env}`,
    };
  }

  /** `<org>:<env>:<run>`, the member of the lease and retry sets. */
  entryMember(orgId: string, envId: string, runId: string): string {
    return `${encodeSegment(orgId, "orgId")}:${encodeSegment(envId, "envId")}:${encodeSegment(runId, "runId")}`;
  }

  /** Splits a lease/retry member back into its ids. */
  parseEntryMember(member: string): EntryAddress {
    const parts = member.split(":");
    const [org, env, run] = parts;
    if (parts.length !== 3 || org === undefined || env === undefined || run === undefined) {
      throw new TypeError(`not an entry member: ${JSON.stringify(member)}`);
    }
    return { orgId: decodeSegment(org), envId: decodeSegment(env), runId: decodeSegment(run) };
  }

  failed(orgId: string, envId: string, runId: string): string {
    const keys = this.env(orgId, envId);
    return `${keys.tag}:failed:${keys.org}:${keys.env}:${encodeSegment(runId, "runId")}`;
  }

  idempotency(orgId: string, envId: string, taskId: string, idempotencyKey: string): string {
    const keys = this.env(orgId, envId);
    return `${keys.tag}:idem:${keys.org}:${keys.env}:${encodeSegment(taskId, "taskId")}:${encodeSegment(idempotencyKey, "idempotencyKey")}`;
  }

  claim(orgId: string, envId: string, taskId: string, idempotencyKey: string): string {
    const keys = this.env(orgId, envId);
    return `${keys.tag}:claim:${keys.org}:${keys.env}:${encodeSegment(taskId, "taskId")}:${encodeSegment(idempotencyKey, "idempotencyKey")}`;
  }

  /** The layout record's key (a slot of its own; read once at start). */
  layout(): string {
    return `{${this.prefix}}:layout`;
  }

  /** Prefix for the gate's fleet-wide keys (a slot of its own). */
  globalGatePrefix(): string {
    return `{${this.prefix}:global}:gate`;
  }
}
