import type { Redis } from "ioredis";
import { createRunService, type RunService } from "./api/run-service.server";
import { createTriggerService, type TriggerService } from "./api/trigger-service.server";
import type { AppConfig, MollifierMode } from "./config.server";
import { LiveStats } from "./dashboard/live-stats.server";
import type { Database } from "./engine/database.server";
import { RunEngine } from "./engine/run-engine.server";
import { loadApiKeys, type SeededEnvironment, seedTenants } from "./engine/seed.server";
import type { DrainableBuffer } from "./mollifier/buffer-port";
import type { AppDrainer } from "./mollifier/drainer-port";
import type { AppGate } from "./mollifier/gate-port";
import { createIdempotencyClaims } from "./mollifier/idempotency-claims.server";
import { LocalBuffer } from "./mollifier/local-buffer.server";
import { createLocalDrainer } from "./mollifier/local-drainer.server";
import { createLocalGate } from "./mollifier/local-gate.server";
import { createMaterialiser, type MaterialiseCounters } from "./mollifier/materialise.server";

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
  readonly buffer: DrainableBuffer;
  readonly gate: AppGate;
  readonly drainer: AppDrainer;
  readonly stats: LiveStats;
  readonly apiKeys: ReadonlyMap<string, SeededEnvironment>;
  readonly tenants: readonly SeededEnvironment[];
  readonly triggers: TriggerService;
  readonly runs: RunService;
  readonly materialised: MaterialiseCounters;
  readonly burst: BurstState;
  /** Stops the drainer and the samplers; the caller closes Redis and the database. */
  close(): Promise<void>;
}

export interface CreateAppServicesOptions {
  readonly config: AppConfig;
  readonly redis: Redis;
  readonly database: Database;
  /** Whether to start the drainer in this process. @default config.drainerInProcess */
  readonly runDrainer?: boolean;
  /** Key prefix in Redis (tests isolate by it). @default "mollifier-demo" */
  readonly redisPrefix?: string;
  /** Sampling interval of buffer stats and write counts, ms. @default 500 */
  readonly sampleMs?: number;
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
  const buffer = new LocalBuffer({ redis, prefix: `${prefix}:buffer` });
  const gate = createLocalGate({
    redis,
    prefix: `${prefix}:gate`,
    shadow: config.mode === "shadow",
    enrolledOrgs: config.enrolledOrgs,
    ratePerSecond: config.envRatePerSecond,
    windowMs: config.windowMs,
    holdMs: config.holdMs,
    envDepth: (orgId, envId) => buffer.depth({ orgId, envId }),
    recorder: stats,
  });
  const claims = createIdempotencyClaims({ redis, prefix: `${prefix}:claim` });
  const materialiser = createMaterialiser({ engine, mode });
  const drainer = createLocalDrainer({
    buffer,
    handler: materialiser.handler,
    onTerminalFailure: materialiser.onTerminalFailure,
    recorder: stats,
    ratePerSecond: config.drainRatePerSecond,
    concurrency: config.drainConcurrency,
  });
  if (options.runDrainer ?? config.drainerInProcess) drainer.start();

  let lastWrites = 0;
  const sampler = setInterval(() => {
    const completed = engine.writes.completed;
    stats.dbWrites(completed - lastWrites);
    lastWrites = completed;
    buffer.stats().then(
      (current) => stats.bufferStats(current),
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
      mode,
      mollifyBatches: config.mollifyBatches,
      engine,
      buffer,
      gate,
      claims,
      stats,
    }),
    runs: createRunService({ engine, buffer, claims }),
    materialised: materialiser.counters,
    burst: { running: false },
    async close() {
      clearInterval(sampler);
      await drainer.stop({ timeoutMs: 5_000 });
    },
  };
}
