/**
 * Hand-written fakes of this package's own ports (never of Redis), shared by
 * its tests. Not part of the build.
 */
import type {
  BufferedEntry,
  BufferedMutations,
  BufferedSnapshot,
  ReadFallbackBuffer,
} from "./read-fallback-buffer.js";
import type { ReadFallbackOptions } from "./read-fallback-options.js";
import type { IdempotencyRef, RunRecord, RunRef, RunStore } from "./run-store.js";

/** A buffer whose every method throws unless the test supplies it. */
export function fakeBuffer(methods: Partial<ReadFallbackBuffer> = {}): ReadFallbackBuffer {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected buffer.${name} call`));
  return {
    getEntry: unexpected("getEntry"),
    cancel: unexpected("cancel"),
    addTags: unexpected("addTags"),
    setMetadata: unexpected("setMetadata"),
    setDelay: unexpected("setDelay"),
    lookupIdempotency: unexpected("lookupIdempotency"),
    resetIdempotency: unexpected("resetIdempotency"),
    claim: unexpected("claim"),
    publishClaim: unexpected("publishClaim"),
    releaseClaim: unexpected("releaseClaim"),
    resetResolvedClaim: unexpected("resetResolvedClaim"),
    ...methods,
  };
}

/** A clock the fake `sleep` advances, so waits take no real time. */
export function manualTime(start = 1_700_000_000_000) {
  const time = {
    now: start,
    sleeps: [] as number[],
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
      time.now += ms;
    },
  };
  return time;
}

/** Options for tests: manual time, no jitter, a counter for tokens. */
export function testOptions(
  overrides: Partial<ReadFallbackOptions> & Pick<ReadFallbackOptions, "buffer">,
  time = manualTime(),
): ReadFallbackOptions {
  let tokens = 0;
  return {
    runStore: new InMemoryRunStore(),
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    generateToken: () => `token-${++tokens}`,
    ...overrides,
  };
}

const FINAL_STATUSES = new Set(["COMPLETED", "FAILED", "CRASHED", "SYSTEM_FAILURE"]);

/**
 * The database port in memory, with the semantics the port documents: every
 * call filters by org and env, metadata is compare-and-set on its version.
 * Records every call so tests can check what was asked.
 */
export class InMemoryRunStore implements RunStore {
  readonly runs = new Map<string, RunRecord>();
  readonly calls: Array<{ method: string; request: object }> = [];
  /** Tag cap, like the application's. */
  maxTags = 10;

  /** Writes a run row, as the drainer's handler does. */
  insert(record: RunRecord): void {
    this.runs.set(record.id, record);
  }

  private find(ref: RunRef): RunRecord | undefined {
    const run = this.runs.get(ref.runId);
    return run && run.orgId === ref.orgId && run.envId === ref.envId ? run : undefined;
  }

  async findRun(ref: RunRef) {
    this.calls.push({ method: "findRun", request: ref });
    return this.find(ref);
  }

  async findRunByIdempotencyKey(ref: IdempotencyRef) {
    this.calls.push({ method: "findRunByIdempotencyKey", request: ref });
    return [...this.runs.values()].find(
      (run) =>
        run.orgId === ref.orgId &&
        run.envId === ref.envId &&
        run.taskId === ref.taskId &&
        run.idempotencyKey === ref.idempotencyKey,
    );
  }

  async cancelRun(request: RunRef & { reason: string; at: number }) {
    this.calls.push({ method: "cancelRun", request });
    const run = this.find(request);
    if (!run) return { outcome: "not_found" as const };
    if (run.canceledAt !== undefined) return { outcome: "already_canceled" as const, at: run.canceledAt };
    if (FINAL_STATUSES.has(run.status)) return { outcome: "not_cancelable" as const, status: run.status };
    this.runs.set(run.id, { ...run, status: "CANCELED", canceledAt: request.at });
    return { outcome: "canceled" as const, at: request.at };
  }

  async addTags(request: RunRef & { tags: readonly string[] }) {
    this.calls.push({ method: "addTags", request });
    const run = this.find(request);
    if (!run) return { outcome: "not_found" as const };
    const tags = [...new Set([...run.tags, ...request.tags])];
    if (tags.length > this.maxTags) return { outcome: "too_many_tags" as const, limit: this.maxTags };
    this.runs.set(run.id, { ...run, tags });
    return { outcome: "updated" as const, tags };
  }

  async setMetadata(request: RunRef & { metadata: string; expectedVersion: number }) {
    this.calls.push({ method: "setMetadata", request });
    const run = this.find(request);
    if (!run) return { outcome: "not_found" as const };
    if (run.metadataVersion !== request.expectedVersion) {
      return { outcome: "version_conflict" as const, version: run.metadataVersion };
    }
    const version = run.metadataVersion + 1;
    this.runs.set(run.id, { ...run, metadata: request.metadata, metadataVersion: version });
    return { outcome: "updated" as const, version };
  }

  async rescheduleRun(request: RunRef & { delayUntil: number }) {
    this.calls.push({ method: "rescheduleRun", request });
    const run = this.find(request);
    if (!run) return { outcome: "not_found" as const };
    if (run.status !== "DELAYED") return { outcome: "not_delayed" as const, status: run.status };
    this.runs.set(run.id, { ...run, delayUntil: request.delayUntil });
    return { outcome: "updated" as const, delayUntil: request.delayUntil };
  }

  async resetIdempotencyKey(ref: IdempotencyRef) {
    this.calls.push({ method: "resetIdempotencyKey", request: ref });
    const runIds: string[] = [];
    for (const run of this.runs.values()) {
      if (
        run.orgId === ref.orgId &&
        run.envId === ref.envId &&
        run.taskId === ref.taskId &&
        run.idempotencyKey === ref.idempotencyKey
      ) {
        runIds.push(run.id);
        this.runs.set(run.id, { ...run, idempotencyKey: undefined, idempotencyKeyExpiresAt: undefined });
      }
    }
    return runIds.length === 0 ? { outcome: "not_found" as const } : { outcome: "reset" as const, runIds };
  }
}

/** A run row with defaults for the fields a test does not care about. */
export function runRecord(overrides: Partial<RunRecord> & Pick<RunRecord, "id">): RunRecord {
  return {
    orgId: "org-1",
    envId: "env-1",
    taskId: "task-1",
    status: "QUEUED",
    payload: {},
    tags: [],
    metadataVersion: 0,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** A buffered entry with defaults for the fields a test does not care about. */
export function bufferedEntry(
  overrides: Partial<Omit<BufferedEntry, "snapshot" | "mutations">> & {
    snapshot?: Partial<BufferedSnapshot>;
    mutations?: Partial<BufferedMutations>;
  } = {},
): BufferedEntry {
  const { snapshot, mutations, ...entry } = overrides;
  const runId = entry.runId ?? "run-1";
  return {
    orgId: "org-1",
    envId: "env-1",
    runId,
    state: "queued",
    attempts: 0,
    acceptedAt: 1_700_000_000_000,
    ...entry,
    snapshot: {
      runId,
      orgId: entry.orgId ?? "org-1",
      envId: entry.envId ?? "env-1",
      taskId: "task-1",
      payload: { hello: "world" },
      createdAt: 1_700_000_000_000,
      options: {},
      ...snapshot,
    },
    mutations: { tags: [], metadataVersion: 0, idempotencyReset: false, ...mutations },
  };
}

/** The run row a drainer writes for a leased entry: its snapshot with the buffered mutations applied. */
export function materialise(
  entry: Pick<BufferedEntry, "orgId" | "envId" | "runId" | "snapshot" | "mutations">,
): RunRecord {
  const { snapshot, mutations } = entry;
  const canceledAt = mutations.canceled?.at;
  return {
    id: entry.runId,
    orgId: entry.orgId,
    envId: entry.envId,
    taskId: snapshot.taskId,
    status: canceledAt === undefined ? "PENDING" : "CANCELED",
    payload: snapshot.payload,
    tags: [...new Set([...(snapshot.options.tags ?? []), ...mutations.tags])],
    metadata: mutations.metadata,
    metadataVersion: mutations.metadataVersion,
    idempotencyKey: mutations.idempotencyReset ? undefined : snapshot.options.idempotencyKey,
    idempotencyKeyExpiresAt: snapshot.options.idempotencyKeyExpiresAt,
    createdAt: snapshot.createdAt,
    delayUntil: mutations.delayUntil ?? snapshot.options.delayUntil,
    canceledAt,
  };
}
