import { type LeasedEntry, MollifierBuffer } from "@mollifier/buffer";
import { Drainer, SharedRateLimiter } from "@mollifier/drainer";
import { createReadFallback } from "@mollifier/read-fallback";
import { createRecorder } from "@mollifier/telemetry";
import type { Cluster, Redis } from "ioredis";
import { createRunService, type RunService } from "./api/run-service.server";
import { createTriggerService, type TriggerService } from "./api/trigger-service.server";
import type { AppConfig, MollifierMode } from "./config.server";
import { LiveStats } from "./dashboard/live-stats.server";
import type { Database } from "./engine/database.server";
import { RunEngine } from "./engine/run-engine.server";
import { createRunStore } from "./engine/run-store.server";
import { loadApiKeys, type SeededEnvironment, seedTenants } from "./engine/seed.server";
import type { AppGate } from "./mollifier/gate-port";
import {
  createMaterialiser,
  type MaterialiseCounters,
  TerminalDrainError,
} from "./mollifier/materialise.server";
import { createPackageGate } from "./mollifier/package-gate.server";
import { teeRecorder } from "./mollifier/tee-recorder";
import { TenantActivity } from "./observability/tenant-activity";
import type { TriggerTracing } from "./observability/trigger-tracing";

/** A burst fired from the dashboard: whether one runs, and the last report. */
export interface BurstState {
  running: boolean;
  lastReport?: unknown;
}

/** Everything the routes use, built once per process and passed as the load context. */
export interface AppServices {
  readonly config: AppConfig;
  readonly mode: MollifierMode;
  readonly database: Database;
  readonly engine: RunEngine;
  readonly buffer: MollifierBuffer;
  readonly gate: AppGate;
  readonly drainer: Drainer<LeasedEntry>;
  readonly stats: LiveStats;
  readonly apiKeys: ReadonlyMap<string, SeededEnvironment>;
  readonly tenants: readonly SeededEnvironment[];
  readonly triggers: TriggerService;
  readonly runs: RunService;
  readonly materialised: MaterialiseCounters;
  readonly burst: BurstState;
  /** Drains and degradations of the last minute per tenant, for the dashboard's per-tenant view. */
  readonly activity: TenantActivity;
  /** A span per trigger request and per drain; `undefined` when tracing is off. */
  readonly tracing: TriggerTracing | undefined;
  /** Stops the drainer and the samplers; the caller closes Redis and the database. */
  close(): Promise<void>;
}

export interface CreateAppServicesOptions {
  readonly config: AppConfig;
  /** A single Redis or a Redis Cluster client. */
  readonly redis: Redis | Cluster;
  readonly database: Database;
  /** Whether to start the drainer in this process. @default config.drainerInProcess */
  readonly runDrainer?: boolean;
  /** Key prefix in Redis (tests isolate by it). @default "mollifier-demo" */
  readonly redisPrefix?: string;
  /** Sampling interval of buffer stats and write counts, ms. @default 500 */
  readonly sampleMs?: number;
  /** Runs before each materialisation; a test port to inject drain failures. @default undefined */
  readonly beforeMaterialise?: (entry: LeasedEntry) => void | Promise<void>;
  /** Traces triggers and drains (`startOpenTelemetry`'s, when traces are exported). @default undefined (off) */
  readonly tracing?: TriggerTracing;
}

async function waitUntilReady(client: Redis | Cluster, timeoutMs = 5_000): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The gate's own client: no offline queue, so a Redis outage fails its call at once and the gate
 * fails open. A duplicate inherits the main client's options, `lazyConnect` included: it is
 * connected explicitly, or the ready wait would always run out its timeout. Auto-pipelining sends the
 * evaluations issued in one tick as one write: one socket write per trigger was a fifth of the
 * trigger route's CPU (docs/adr/0011).
 */
function gateClientOf(redis: Redis | Cluster): Redis | Cluster {
  const options = { enableOfflineQueue: false, lazyConnect: false, enableAutoPipelining: true };
  return "nodes" in redis ? redis.duplicate(undefined, options) : redis.duplicate(options);
}

/** Seeds the tenants and composes engine, buffer, gate, drainer and services. */
export async function createAppServices(options: CreateAppServicesOptions): Promise<AppServices> {
  const { config, redis, database } = options;
  const prefix = options.redisPrefix ?? "mollifier-demo";
  const mode = (): MollifierMode => config.mode;
  const stats = new LiveStats();
  const tenants = await seedTenants(database);
  const apiKeys = await loadApiKeys(database);
  const engine = new RunEngine({
    database,
    maxConcurrentWrites: config.maxConcurrentWrites,
    writeLatencyMs: config.writeLatencyMs,
  });
  const metrics = createRecorder();
  const buffer = new MollifierBuffer({
    redis,
    prefix,
    maxPayloadBytes: config.maxPayloadBytes,
    maxEnvDepth: config.maxEnvDepth,
    maxOrgDepth: config.maxOrgDepth,
  });
  // Before anything accepts or drains: a process with another shard layout than the fleet's refuses here.
  await buffer.checkLayout();
  const activity = new TenantActivity();
  const recorder = teeRecorder(stats, metrics, activity);
  // The gate must never wait for a reconnect: its own client has no offline queue.
  const gateRedis = gateClientOf(redis);
  // Outages are expected and handled (the gate fails open); the main client reports them.
  gateRedis.on("error", () => undefined);
  if (config.mode !== "off") await waitUntilReady(gateRedis);
  const gate = createPackageGate({ redis: gateRedis, keys: buffer.keys, config, recorder });
  const readFallback = createReadFallback({
    buffer,
    runStore: createRunStore(engine),
    recorder,
    estimateDrainRate: () => config.drainRatePerSecond,
  });
  const materialiser = createMaterialiser({ engine, mode });
  const { tracing } = options;
  const materialise = async (entry: LeasedEntry) => {
    await options.beforeMaterialise?.(entry);
    await materialiser.handler(entry);
  };
  const drainer = new Drainer<LeasedEntry>({
    source: buffer,
    // The drain span links to the trigger request's span through the snapshot's trace context.
    handler:
      tracing === undefined ? materialise : (entry) => tracing.traceDrain(entry, () => materialise(entry)),
    // Every terminal failure, the reaper's included, writes its failed row here.
    onTerminalFailure: materialiser.onTerminalFailure,
    isRetryable: (error) => !(error instanceof TerminalDrainError),
    concurrency: config.drainConcurrency,
    rateLimiter: new SharedRateLimiter({ redis, ratePerSecond: config.drainRatePerSecond, prefix }),
    idleDelayMs: 50,
    recorder,
  });
  if (options.runDrainer ?? config.drainerInProcess) drainer.start();

  let lastWrites = 0;
  const sampler = setInterval(() => {
    const completed = engine.writes.completed;
    stats.dbWrites(completed - lastWrites);
    lastWrites = completed;
    buffer.stats().then(
      (current) => recorder.bufferStats(current),
      () => undefined,
    );
  }, options.sampleMs ?? 500);
  sampler.unref();

  return {
    config,
    mode: config.mode,
    database,
    engine,
    buffer,
    gate,
    drainer,
    stats,
    apiKeys,
    tenants,
    triggers: createTriggerService({
      mode: config.mode,
      idempotencyDuringRedisOutage: config.idempotencyDuringRedisOutage,
      engine,
      buffer,
      gate,
      readFallback,
      stats,
      recorder,
    }),
    runs: createRunService({ engine, buffer, readFallback }),
    materialised: materialiser.counters,
    burst: { running: false },
    activity,
    tracing,
    async close() {
      clearInterval(sampler);
      await drainer.stop({ timeoutMs: 5_000 });
      gateRedis.disconnect();
      metrics.close();
    },
  };
}
