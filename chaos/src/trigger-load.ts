import { setTimeout as sleep } from "node:timers/promises";

/** The demo's seeded environments, by API key (see apps/demo-webapp/app/engine/seed.server.ts). */
export const TENANTS = [
  { apiKey: "mk_prod_acme_demo", envId: "env_acme_prod" },
  { apiKey: "mk_staging_acme_demo", envId: "env_acme_staging" },
  { apiKey: "mk_prod_globex_demo", envId: "env_globex_prod" },
  { apiKey: "mk_staging_globex_demo", envId: "env_globex_staging" },
  { apiKey: "mk_prod_initech_demo", envId: "env_initech_prod" },
  { apiKey: "mk_staging_initech_demo", envId: "env_initech_staging" },
] as const;

export const TASK_ID = "chaos-task";

/** One trigger the API acknowledged: answered 200 or 201 with a run id. */
export interface Acknowledged {
  readonly runId: string;
  readonly envId: string;
  readonly idempotencyKey: string | undefined;
  /** 200 with `isCached`: the key already named this run. */
  readonly cached: boolean;
  readonly mollified: boolean;
}

export interface LoadOptions {
  readonly baseUrl: string;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** Share of triggers carrying an idempotency key from a small pool, so keys collide. @default 0.2 */
  readonly keyedShare?: number;
  /** Keys in the pool per env. @default 40 */
  readonly keyPool?: number;
  /** Requests in flight at most. @default 32 */
  readonly maxInFlight?: number;
  /** Deterministic choices: a seeded generator. */
  readonly random: () => number;
}

export interface LoadResult {
  readonly sent: number;
  readonly acknowledged: Acknowledged[];
  /** Answers by status (`refused` when no HTTP answer came: the app was down). */
  readonly statusCounts: Record<string, number>;
}

/** A small seeded generator (mulberry32), so a scenario sends the same triggers each run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Skewed: half of all triggers to the first env, the rest spread over the others.
function pickTenant(random: () => number): (typeof TENANTS)[number] {
  if (random() < 0.5) return TENANTS[0];
  return TENANTS[1 + Math.floor(random() * (TENANTS.length - 1))] ?? TENANTS[0];
}

/**
 * Sends triggers at `ratePerSecond` for `durationMs` (skewed over the six
 * seeded envs, a share keyed from a small pool) and records what the API
 * acknowledged. Requests that get no answer or an error status are counted,
 * not acknowledged: nothing was promised to their caller.
 */
export async function sendTriggerLoad(options: LoadOptions): Promise<LoadResult> {
  const keyedShare = options.keyedShare ?? 0.2;
  const keyPool = options.keyPool ?? 40;
  const maxInFlight = options.maxInFlight ?? 32;
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1_000);
  const intervalMs = 1_000 / options.ratePerSecond;
  const acknowledged: Acknowledged[] = [];
  const statusCounts: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();

  const send = async (index: number): Promise<void> => {
    const tenant = pickTenant(options.random);
    const idempotencyKey =
      options.random() < keyedShare ? `key-${Math.floor(options.random() * keyPool)}` : undefined;
    let status = "refused";
    try {
      const response = await fetch(`${options.baseUrl}/api/v1/tasks/${TASK_ID}/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          payload: { index, padding: "x".repeat(200) },
          options: idempotencyKey ? { idempotencyKey } : {},
        }),
        signal: AbortSignal.timeout(30_000),
      });
      status = String(response.status);
      const body = (await response.json().catch(() => undefined)) as
        | { id?: string; isCached?: boolean; notice?: string }
        | undefined;
      if ((response.status === 200 || response.status === 201) && typeof body?.id === "string") {
        acknowledged.push({
          runId: body.id,
          envId: tenant.envId,
          idempotencyKey,
          cached: body.isCached === true,
          mollified: typeof body.notice === "string",
        });
      }
    } catch {
      // No answer: the app is down or restarting.
    }
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
  };

  for (let index = 0; index < total; index++) {
    const due = startedAt + index * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const request = send(index).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  return { sent: total, acknowledged, statusCounts };
}
