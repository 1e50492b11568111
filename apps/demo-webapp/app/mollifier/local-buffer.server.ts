import type { Redis } from "ioredis";
import type {
  AcceptInput,
  AcceptResult,
  BufferEntryView,
  DrainableBuffer,
  EntryMutations,
  EntryRef,
  IdempotencyRef,
  LeasedEntry,
  TriggerSnapshot,
} from "./buffer-port";

/**
 * A single-Redis stand-in for `@mollifier/buffer` with the contract's API,
 * used until the package is published in the workspace. Each operation is
 * one atomic script, so the app's guarantees (no loss, no duplicate, no
 * mutation racing a lease) hold on it as they do on the package.
 */

const ACCEPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate_run', ARGV[1]} end
if ARGV[5] == '1' then
  local winner = redis.call('GET', KEYS[4])
  if winner and redis.call('EXISTS', ARGV[7] .. winner) == 1 then return {'duplicate_idempotency', winner} end
  redis.call('SET', KEYS[4], ARGV[1])
end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[2], 'state', 'queued', 'attempts', 0, 'acceptedAt', ARGV[3],
  'tags', ARGV[6], 'metadataVersion', 0, 'org', ARGV[8], 'env', ARGV[9])
local position = redis.call('RPUSH', KEYS[2], ARGV[1]) - 1
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('HINCRBY', KEYS[5], 'total', 1)
redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
return {'accepted', ARGV[1], position}
`;

const LEASE = `
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  local key = ARGV[4] .. id
  redis.call('HSET', key, 'state', 'leased', 'leaseDeadline', ARGV[2])
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3] .. ' ' .. id)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', key)
end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[3]) end
return out
`;

// Removes a leased entry (ack or fail); a lease that was reaped meanwhile is lost.
const FINISH = `
if redis.call('HGET', KEYS[1], 'leaseDeadline') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'leased' then
  return 'lease_lost'
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'total', -1)
redis.call('HINCRBY', KEYS[3], ARGV[3], -1)
if ARGV[4] ~= '' and redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
return 'done'
`;

// Puts a leased entry back at the head of its queue (retry or expired lease).
const REQUEUE = `
if redis.call('HGET', KEYS[1], 'leaseDeadline') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'leased' then
  return 'lease_lost'
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[4])
return 'requeued'
`;

const MUTATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if redis.call('HGET', KEYS[1], 'state') == 'leased' then return {'busy'} end
local op = ARGV[1]
if op == 'cancel' then
  local at = redis.call('HGET', KEYS[1], 'canceledAt')
  if at then return {'already_canceled', at} end
  redis.call('HSET', KEYS[1], 'canceledAt', ARGV[2], 'cancelReason', ARGV[3])
  return {'canceled', ARGV[2]}
elseif op == 'tags' then
  local tags = cjson.decode(redis.call('HGET', KEYS[1], 'tags') or '[]')
  local seen = {}
  for _, t in ipairs(tags) do seen[t] = true end
  for i = 4, #ARGV do
    if not seen[ARGV[i]] then tags[#tags + 1] = ARGV[i]; seen[ARGV[i]] = true end
  end
  if #tags > tonumber(ARGV[2]) then return {'too_many_tags', ARGV[2]} end
  local encoded = #tags == 0 and '[]' or cjson.encode(tags)
  redis.call('HSET', KEYS[1], 'tags', encoded)
  return {'updated', encoded}
elseif op == 'metadata' then
  local version = tonumber(redis.call('HGET', KEYS[1], 'metadataVersion') or '0')
  if version ~= tonumber(ARGV[3]) then return {'version_conflict', tostring(version)} end
  redis.call('HSET', KEYS[1], 'metadata', ARGV[2], 'metadataVersion', version + 1)
  return {'updated', tostring(version + 1)}
elseif op == 'reset_idempotency' then
  redis.call('HSET', KEYS[1], 'idempotencyReset', '1')
  redis.call('DEL', KEYS[2])
  return {'reset'}
end
return {'not_found'}
`;

export interface LocalBufferOptions {
  readonly redis: Redis;
  /** @default "mollifier-demo" */
  readonly prefix?: string;
  /** @default 30_000 */
  readonly leaseMs?: number;
  /** @default 10 */
  readonly maxTags?: number;
  /** @default 5 */
  readonly maxAttempts?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

type Hash = Record<string, string>;

function pairsToHash(pairs: unknown): Hash {
  const hash: Hash = {};
  if (!Array.isArray(pairs)) return hash;
  for (let index = 0; index + 1 < pairs.length; index += 2)
    hash[String(pairs[index])] = String(pairs[index + 1]);
  return hash;
}

function parseMutations(hash: Hash): EntryMutations {
  const tags: unknown = JSON.parse(hash.tags ?? "[]");
  return {
    ...(hash.canceledAt !== undefined
      ? { canceled: { at: Number(hash.canceledAt), reason: hash.cancelReason ?? "" } }
      : {}),
    tags: Array.isArray(tags) ? tags.map(String) : [],
    ...(hash.metadata !== undefined ? { metadata: hash.metadata } : {}),
    metadataVersion: Number(hash.metadataVersion ?? 0),
    idempotencyReset: hash.idempotencyReset === "1",
  };
}

export class LocalBuffer implements DrainableBuffer {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #maxTags: number;
  readonly #maxAttempts: number;
  readonly #clock: () => number;

  constructor(options: LocalBufferOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? "mollifier-demo";
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxTags = options.maxTags ?? 10;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#clock = options.clock ?? Date.now;
  }

  #entryPrefix(): string {
    return `${this.#prefix}:entry:`;
  }
  #entryKey(runId: string): string {
    return `${this.#entryPrefix()}${runId}`;
  }
  #queueKey(orgId: string, envId: string): string {
    return `${this.#prefix}:queue:${orgId} ${envId}`;
  }
  #idemKey(ref: IdempotencyRef): string {
    return `${this.#prefix}:idem:${JSON.stringify([ref.envId, ref.taskId, ref.idempotencyKey])}`;
  }
  get #readyKey(): string {
    return `${this.#prefix}:ready`;
  }
  get #depthKey(): string {
    return `${this.#prefix}:depth`;
  }
  get #leasesKey(): string {
    return `${this.#prefix}:leases`;
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const snapshot: TriggerSnapshot = {
      ...input,
      schemaVersion: 1,
      createdAt: input.createdAt ?? this.#clock(),
    };
    const key = snapshot.options.idempotencyKey;
    const idemKey =
      key === undefined ? `${this.#prefix}:no-idem` : this.#idemKey({ ...snapshot, idempotencyKey: key });
    const reply = await this.#redis.eval(
      ACCEPT,
      5,
      this.#entryKey(snapshot.runId),
      this.#queueKey(snapshot.orgId, snapshot.envId),
      this.#readyKey,
      idemKey,
      this.#depthKey,
      snapshot.runId,
      JSON.stringify(snapshot),
      String(this.#clock()),
      `${snapshot.orgId} ${snapshot.envId}`,
      key === undefined ? "0" : "1",
      JSON.stringify(snapshot.options.tags ?? []),
      this.#entryPrefix(),
      snapshot.orgId,
      snapshot.envId,
    );
    const [outcome, runId, position] = Array.isArray(reply) ? reply.map(String) : [];
    if (outcome === "accepted") return { outcome, runId: String(runId), position: Number(position) };
    if (outcome === "duplicate_run" || outcome === "duplicate_idempotency") {
      return { outcome, runId: String(runId) };
    }
    throw new Error(`unexpected accept reply ${JSON.stringify(reply)}`);
  }

  async acceptBatch(inputs: readonly AcceptInput[]): Promise<AcceptResult[]> {
    return Promise.all(inputs.map((input) => this.accept(input)));
  }

  #view(ref: EntryRef, hash: Hash, position: number | undefined): BufferEntryView {
    const snapshot = JSON.parse(hash.snapshot ?? "null") as TriggerSnapshot;
    return {
      ...ref,
      state: hash.state === "leased" ? "leased" : "queued",
      attempts: Number(hash.attempts ?? 0),
      acceptedAt: Number(hash.acceptedAt ?? 0),
      snapshot,
      mutations: parseMutations(hash),
      ...(position !== undefined ? { position } : {}),
    };
  }

  async getEntry(ref: EntryRef): Promise<BufferEntryView | undefined> {
    const hash = await this.#redis.hgetall(this.#entryKey(ref.runId));
    if (hash.snapshot === undefined || hash.org !== ref.orgId || hash.env !== ref.envId) return undefined;
    const position = await this.#redis.lpos(this.#queueKey(ref.orgId, ref.envId), ref.runId);
    return this.#view(ref, hash, position ?? undefined);
  }

  async listEntries(input: { orgId: string; envId: string; cursor?: string; limit?: number }) {
    const start = Number(input.cursor ?? 0);
    const limit = input.limit ?? 50;
    const ids = await this.#redis.lrange(this.#queueKey(input.orgId, input.envId), start, start + limit - 1);
    const entries: BufferEntryView[] = [];
    for (const [offset, runId] of ids.entries()) {
      const hash = await this.#redis.hgetall(this.#entryKey(runId));
      if (hash.snapshot !== undefined) {
        entries.push(this.#view({ orgId: input.orgId, envId: input.envId, runId }, hash, start + offset));
      }
    }
    return ids.length === limit ? { entries, nextCursor: String(start + limit) } : { entries };
  }

  async depth(scope: { orgId: string; envId: string }): Promise<number> {
    return Number((await this.#redis.hget(this.#depthKey, `${scope.orgId} ${scope.envId}`)) ?? 0);
  }

  async stats() {
    const [total, leases, ready] = await Promise.all([
      this.#redis.hget(this.#depthKey, "total"),
      this.#redis.zcard(this.#leasesKey),
      this.#redis.smembers(this.#readyKey),
    ]);
    let oldest = Number.POSITIVE_INFINITY;
    for (const member of ready) {
      const head = await this.#redis.lindex(`${this.#prefix}:queue:${member}`, 0);
      if (head === null) continue;
      const acceptedAt = Number(await this.#redis.hget(this.#entryKey(head), "acceptedAt"));
      if (Number.isFinite(acceptedAt) && acceptedAt > 0) oldest = Math.min(oldest, acceptedAt);
    }
    return {
      depth: Math.max(0, Number(total ?? 0)),
      leasesInFlight: leases,
      oldestEntryAgeMs: Number.isFinite(oldest) ? Math.max(0, this.#clock() - oldest) : 0,
    };
  }

  async #mutate(ref: EntryRef, args: string[], idemKey = `${this.#prefix}:no-idem`): Promise<string[]> {
    const entry = await this.getEntry(ref);
    if (!entry) return ["not_found"];
    const reply = await this.#redis.eval(MUTATE, 2, this.#entryKey(ref.runId), idemKey, ...args);
    return Array.isArray(reply) ? reply.map(String) : ["not_found"];
  }

  async cancel(input: EntryRef & { reason: string }) {
    const at = this.#clock();
    const [outcome, value] = await this.#mutate(input, ["cancel", String(at), input.reason]);
    if (outcome === "canceled" || outcome === "already_canceled")
      return { outcome, at: Number(value) } as const;
    return { outcome: outcome === "busy" ? "busy" : "not_found" } as const;
  }

  async addTags(input: EntryRef & { tags: string[] }) {
    const [outcome, value] = await this.#mutate(input, ["tags", String(this.#maxTags), "", ...input.tags]);
    if (outcome === "updated") return { outcome, tags: JSON.parse(value ?? "[]") as string[] } as const;
    if (outcome === "too_many_tags") return { outcome, limit: Number(value) } as const;
    return { outcome: outcome === "busy" ? "busy" : "not_found" } as const;
  }

  async setMetadata(input: EntryRef & { metadata: string; expectedVersion: number }) {
    const [outcome, value] = await this.#mutate(input, [
      "metadata",
      input.metadata,
      String(input.expectedVersion),
    ]);
    if (outcome === "updated" || outcome === "version_conflict")
      return { outcome, version: Number(value) } as const;
    return { outcome: outcome === "busy" ? "busy" : "not_found" } as const;
  }

  async lookupIdempotency(ref: IdempotencyRef) {
    const runId = await this.#redis.get(this.#idemKey(ref));
    if (runId === null) return { outcome: "not_found" } as const;
    if ((await this.#redis.exists(this.#entryKey(runId))) === 0) {
      // Self-healing: an index pointing at a gone entry is stale.
      await this.#redis.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
        1,
        this.#idemKey(ref),
        runId,
      );
      return { outcome: "not_found" } as const;
    }
    return { outcome: "found", runId } as const;
  }

  async resetIdempotency(ref: IdempotencyRef) {
    const found = await this.lookupIdempotency(ref);
    if (found.outcome === "not_found") return found;
    const [outcome] = await this.#mutate(
      { orgId: ref.orgId, envId: ref.envId, runId: found.runId },
      ["reset_idempotency"],
      this.#idemKey(ref),
    );
    if (outcome === "reset") return { outcome, runId: found.runId } as const;
    return { outcome: outcome === "busy" ? "busy" : "not_found" } as const;
  }

  async readyEnvs(): Promise<Array<{ orgId: string; envId: string }>> {
    const members = await this.#redis.smembers(this.#readyKey);
    return members.map((member) => {
      const [orgId = "", envId = ""] = member.split(" ");
      return { orgId, envId };
    });
  }

  async lease(input: { orgId: string; envId: string; count: number; leaseMs?: number }) {
    const deadline = this.#clock() + (input.leaseMs ?? this.#leaseMs);
    const member = `${input.orgId} ${input.envId}`;
    const reply = await this.#redis.eval(
      LEASE,
      3,
      this.#queueKey(input.orgId, input.envId),
      this.#leasesKey,
      this.#readyKey,
      String(input.count),
      String(deadline),
      member,
      this.#entryPrefix(),
    );
    const entries: LeasedEntry[] = [];
    const invalid: Array<{ runId: string; error: string }> = [];
    const items = Array.isArray(reply) ? reply : [];
    for (let index = 0; index + 1 < items.length; index += 2) {
      const runId = String(items[index]);
      const hash = pairsToHash(items[index + 1]);
      try {
        const snapshot = JSON.parse(hash.snapshot ?? "") as TriggerSnapshot;
        entries.push({
          orgId: input.orgId,
          envId: input.envId,
          runId,
          leaseToken: String(deadline),
          leaseDeadline: deadline,
          attempts: Number(hash.attempts ?? 1),
          acceptedAt: Number(hash.acceptedAt ?? 0),
          snapshot,
          mutations: parseMutations(hash),
        });
      } catch (error) {
        invalid.push({ runId, error: String(error) });
      }
    }
    return { entries, invalid };
  }

  async #finish(entry: LeasedEntry): Promise<boolean> {
    const key = entry.snapshot.options.idempotencyKey;
    const reply = await this.#redis.eval(
      FINISH,
      4,
      this.#entryKey(entry.runId),
      this.#leasesKey,
      this.#depthKey,
      key === undefined
        ? `${this.#prefix}:no-idem`
        : this.#idemKey({ ...entry, taskId: entry.snapshot.taskId, idempotencyKey: key }),
      entry.leaseToken,
      `${entry.orgId} ${entry.envId} ${entry.runId}`,
      `${entry.orgId} ${entry.envId}`,
      key === undefined ? "" : "1",
      entry.runId,
    );
    return reply === "done";
  }

  async ack(entry: LeasedEntry) {
    return (await this.#finish(entry))
      ? ({ outcome: "acked" } as const)
      : ({ outcome: "lease_lost" } as const);
  }

  async fail(entry: LeasedEntry, _input: { error: string; kind?: "terminal" | "attempts_exhausted" }) {
    return (await this.#finish(entry))
      ? ({ outcome: "failed" } as const)
      : ({ outcome: "lease_lost" } as const);
  }

  async #requeue(entry: LeasedEntry, token: string): Promise<boolean> {
    const reply = await this.#redis.eval(
      REQUEUE,
      4,
      this.#entryKey(entry.runId),
      this.#leasesKey,
      this.#queueKey(entry.orgId, entry.envId),
      this.#readyKey,
      token,
      `${entry.orgId} ${entry.envId} ${entry.runId}`,
      entry.runId,
      `${entry.orgId} ${entry.envId}`,
    );
    return reply === "requeued";
  }

  async retry(entry: LeasedEntry, _input: { error: string }) {
    if (entry.attempts >= this.#maxAttempts)
      return { outcome: "exhausted", attempts: entry.attempts } as const;
    if (!(await this.#requeue(entry, entry.leaseToken))) return { outcome: "lease_lost" } as const;
    return { outcome: "scheduled", dueAt: this.#clock(), delayMs: 0, attempts: entry.attempts } as const;
  }

  async reapExpiredLeases(input: { limit?: number } = {}) {
    const expired = await this.#redis.zrangebyscore(
      this.#leasesKey,
      "-inf",
      this.#clock(),
      "WITHSCORES",
      "LIMIT",
      0,
      input.limit ?? 100,
    );
    let reaped = 0;
    for (let index = 0; index + 1 < expired.length; index += 2) {
      const [orgId = "", envId = "", runId = ""] = String(expired[index]).split(" ");
      const token = String(expired[index + 1]);
      const entry = { orgId, envId, runId, leaseToken: token } as LeasedEntry;
      if (await this.#requeue(entry, token)) reaped++;
    }
    return { reaped };
  }
}
