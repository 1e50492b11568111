import type { BufferContext } from "./buffer-options.js";
import { entryKeys, envKeys, withValidIds } from "./entry-keys.js";
import { splitEntryValue } from "./entry-value.js";
import type { BufferEntryView, FailedEntryView, FailureKind } from "./entry-view.js";
import { toEntryMutations } from "./entry-view.js";
import { activeEnvs, activeOrgs } from "./enumerate.js";
import { BufferInputError } from "./errors.js";
import { decodeMutationFields, MUTATION_FIELDS } from "./generated/entry-record.js";
import { readEntryScript, readOldestEntryScript } from "./generated/lua-scripts.js";
import { decodeSegment, type EntryAddress, type EnvKeys, encodeSegment } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyOptionalNumber, replyString, UnexpectedReplyError } from "./reply.js";
import { decodeSnapshot } from "./snapshot.js";

/** Default page size of `listEntries`. */
export const DEFAULT_LIST_LIMIT = 100;
/** Largest page size of `listEntries`. */
export const MAX_LIST_LIMIT = 1_000;

/** What `listEntries` takes. */
export interface ListEntriesRequest {
  orgId: string;
  envId: string;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /**
   * Page size, 1 … 1000.
   * @default 100
   */
  limit?: number;
}

/** Which depth counter to read. */
export type DepthScope = { orgId: string; envId: string } | { orgId: string } | { shard: number };

/** Buffer-wide figures for gauges. */
export interface BufferStats {
  /** Entries buffered in any state, all shards. */
  depth: number;
  /** Entries currently leased, all shards. */
  leasesInFlight: number;
  /** Age of the oldest entry waiting at the head of any env queue; 0 when none waits. */
  oldestEntryAgeMs: number;
}

// read-entry-3.lua's reply: these, then the mutation fields.
const READ_VALUE = 0;
const READ_STATE = 1;
const READ_ATTEMPTS = 2;
const READ_POSITION = 3;
const READ_LEASE_DEADLINE = 4;
const READ_MUTATIONS = 5;

function parseEntry(script: string, address: EntryAddress, raw: unknown): BufferEntryView | undefined {
  const fields = replyArray(script, raw);
  if (fields.length === 0) return undefined;
  const state = replyString(script, fields[READ_STATE]);
  if (state !== "queued" && state !== "leased" && state !== "retrying") {
    throw new UnexpectedReplyError(script, raw);
  }
  const { acceptedAt, snapshotText } = splitEntryValue(script, replyString(script, fields[READ_VALUE]));
  const decoded = decodeSnapshot(address, snapshotText);
  // An entry whose snapshot no longer parses is not readable; `lease` fails it.
  if (!decoded.ok) return undefined;
  const view: BufferEntryView = {
    ...address,
    state,
    acceptedAt,
    attempts: replyOptionalNumber(script, fields[READ_ATTEMPTS]) ?? 0,
    snapshot: decoded.snapshot,
    mutations: toEntryMutations(decodeMutationFields(script, fields, READ_MUTATIONS)),
  };
  const position = replyOptionalNumber(script, fields[READ_POSITION]);
  if (position !== undefined) view.position = position;
  const leaseDeadline = replyOptionalNumber(script, fields[READ_LEASE_DEADLINE]);
  if (leaseDeadline !== undefined) view.leaseDeadline = leaseDeadline;
  return view;
}

/** One buffered entry by its ids, or `undefined` when it is not buffered (acked, failed, never accepted). */
export async function getEntry(
  context: BufferContext,
  address: EntryAddress,
): Promise<BufferEntryView | undefined> {
  const { keys, runField, member } = entryKeys(context.keys, address);
  const raw = await runLuaScript(
    context.redis,
    readEntryScript,
    [keys.entries, keys.queue, keys.leases],
    [runField, member],
  );
  return parseEntry(readEntryScript.name, address, raw);
}

function isFailureKind(value: string): value is FailureKind {
  return value === "terminal" || value === "attempts_exhausted" || value === "invalid_entry";
}

/** The FAILED record of a run, while it is retained. */
export async function getFailed(
  context: BufferContext,
  address: EntryAddress,
): Promise<FailedEntryView | undefined> {
  const record = await context.redis.hgetall(
    withValidIds(() => context.keys.failed(address.orgId, address.envId, address.runId)),
  );
  const { snapshot: rawSnapshot, error, kind, failedAt, attempts, acceptedAt } = record;
  if (rawSnapshot === undefined || error === undefined || kind === undefined || !isFailureKind(kind)) {
    return undefined;
  }
  const decoded = decodeSnapshot(address, rawSnapshot);
  const view: FailedEntryView = {
    ...address,
    rawSnapshot,
    error,
    kind,
    failedAt: Number(failedAt ?? 0),
    attempts: Number(attempts ?? 0),
    acceptedAt: Number(acceptedAt ?? 0),
    // The fail scripts copy a mutated entry's fields as `mutation:<name>` (lua/includes/failed-record.lua).
    mutations: toEntryMutations(
      decodeMutationFields(
        "getFailed",
        MUTATION_FIELDS.map((name) => record[`mutation:${name}`]),
        0,
      ),
    ),
  };
  if (decoded.ok) view.snapshot = decoded.snapshot;
  return view;
}

/**
 * One page of an env's runs from an ordered index (`range` reads run fields `[start, stop]`),
 * each read with `read`; runs that ended between the two reads are left out. The cursor is an
 * offset into the index.
 */
async function listPage<View extends object>(
  context: BufferContext,
  what: string,
  request: { orgId: string; envId: string; cursor?: string; limit?: number },
  range: (keys: EnvKeys, start: number, stop: number) => Promise<string[]>,
  read: (context: BufferContext, address: EntryAddress) => Promise<View | undefined>,
): Promise<{ entries: View[]; nextCursor?: string }> {
  const limit = request.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new BufferInputError("INVALID_INPUT", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  const start = request.cursor === undefined ? 0 : Number(request.cursor);
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new BufferInputError(
      "INVALID_INPUT",
      `cursor ${JSON.stringify(request.cursor)} is not a ${what} cursor`,
    );
  }
  const { orgId, envId } = request;
  const runs = await range(envKeys(context.keys, orgId, envId), start, start + limit);
  const views: Array<View | undefined> = await Promise.all(
    runs.slice(0, limit).map((run) => read(context, { orgId, envId, runId: decodeSegment(run) })),
  );
  const entries = views.filter((view): view is View => view !== undefined);
  return runs.length > limit ? { entries, nextCursor: String(start + limit) } : { entries };
}

/**
 * An env's queued entries in the order they will be leased (oldest first,
 * apart from retries and reaped leases, which go back to the head), a page at
 * a time. The cursor is an offset into the queue, so entries leased between
 * pages shift it: a page may skip entries that moved ahead, never repeat one.
 * Leased and retrying entries are not in the queue; `getEntry` reads them.
 */
export async function listEntries(
  context: BufferContext,
  request: ListEntriesRequest,
): Promise<{ entries: BufferEntryView[]; nextCursor?: string }> {
  return listPage(
    context,
    "listEntries",
    request,
    (keys, start, stop) => context.redis.lrange(keys.queue, start, stop),
    getEntry,
  );
}

/** What `listFailed` takes. */
export interface ListFailedRequest {
  orgId: string;
  envId: string;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  /**
   * Most records per page, 1 to 1,000.
   * @default 100
   */
  limit?: number;
}

/**
 * An env's retained FAILED records, newest failure first, a page at a time (the cursor is an
 * offset, so records failed between pages shift it: a page may repeat one, never skip one).
 * Records end with `failedRetentionMs`, or with `discardFailed`.
 */
export async function listFailed(
  context: BufferContext,
  request: ListFailedRequest,
): Promise<{ entries: FailedEntryView[]; nextCursor?: string }> {
  return listPage(
    context,
    "listFailed",
    request,
    (keys, start, stop) => context.redis.zrevrange(keys.failedIndex, start, stop),
    getFailed,
  );
}

/** Entries buffered in any state, per env, org or shard. */
export async function depth(context: BufferContext, scope: DepthScope): Promise<number> {
  let key: string;
  let field: string;
  if ("shard" in scope) {
    key = withValidIds(() => context.keys.shard(scope.shard)).depth;
    field = "total";
  } else if ("envId" in scope) {
    const keys = envKeys(context.keys, scope.orgId, scope.envId);
    key = keys.depth;
    field = keys.envDepthField;
  } else {
    const { orgId } = scope;
    key = withValidIds(() => context.keys.shard(context.keys.shardOf(orgId))).depth;
    field = `org:${encodeSegment(orgId, "orgId")}`;
  }
  return Number((await context.redis.hget(key, field)) ?? 0);
}

/** Age (Redis `TIME` − `acceptedAt`) of the entry at the head of an env queue; `undefined` when none waits. */
export async function oldestEntryAgeMs(
  context: BufferContext,
  address: { orgId: string; envId: string },
): Promise<number | undefined> {
  const keys = envKeys(context.keys, address.orgId, address.envId);
  const script = readOldestEntryScript.name;
  const reply = replyArray(
    script,
    await runLuaScript(context.redis, readOldestEntryScript, [keys.queue, keys.entries], []),
  );
  const acceptedAt = replyOptionalNumber(script, reply[1]);
  return acceptedAt === undefined ? undefined : Math.max(0, replyNumber(script, reply[0]) - acceptedAt);
}

/** A run's 0-based place in its env queue; `undefined` when it is not queued. */
export async function position(context: BufferContext, address: EntryAddress): Promise<number | undefined> {
  const { keys, runField } = entryKeys(context.keys, address);
  const index = await context.redis.lpos(keys.queue, runField);
  return index ?? undefined;
}

/** Depth, leases in flight and the oldest waiting entry's age across all shards (walks active orgs and envs). */
export async function stats(context: BufferContext): Promise<BufferStats> {
  const perShard = await Promise.all(
    context.keys.shards().map(async (shard) => {
      const keys = context.keys.shard(shard);
      const [total, leases, orgs] = await Promise.all([
        context.redis.hget(keys.depth, "total"),
        context.redis.zcard(keys.leases),
        activeOrgs(context, shard),
      ]);
      const ages = await Promise.all(
        orgs.map(async (orgId) => {
          const envs = await activeEnvs(context, orgId);
          return Promise.all(envs.map((envId) => oldestEntryAgeMs(context, { orgId, envId })));
        }),
      );
      const oldest = Math.max(0, ...ages.flat().map((age) => age ?? 0));
      return { depth: Number(total ?? 0), leasesInFlight: leases, oldestEntryAgeMs: oldest };
    }),
  );
  return perShard.reduce(
    (sum, shard) => ({
      depth: sum.depth + shard.depth,
      leasesInFlight: sum.leasesInFlight + shard.leasesInFlight,
      oldestEntryAgeMs: Math.max(sum.oldestEntryAgeMs, shard.oldestEntryAgeMs),
    }),
    { depth: 0, leasesInFlight: 0, oldestEntryAgeMs: 0 },
  );
}
