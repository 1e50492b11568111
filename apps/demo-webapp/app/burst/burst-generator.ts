import { randomBytes } from "node:crypto";
import http from "node:http";
import { answerKind } from "./answer-kind";
import { achievedRate } from "./burst-options";

/** A tenant the burst can trigger as. */
export interface BurstTenant {
  readonly orgId: string;
  readonly envId: string;
  readonly apiKey: string;
}

export interface BurstOptions {
  /** The app's origin, e.g. `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  /** Triggers per second. @default 400 */
  readonly ratePerSecond?: number;
  /** How long to send, ms. @default 5_000 */
  readonly durationMs?: number;
  /** Orgs to spread over (taken from `tenants`). @default 3 */
  readonly orgs?: number;
  /** Envs per org. @default 2 */
  readonly envsPerOrg?: number;
  /** 0 = even spread; towards 1 = most traffic to the first env. @default 0.5 */
  readonly skew?: number;
  /** Share of triggers sent with an idempotency key from a small pool. @default 0.1 */
  readonly idempotentShare?: number;
  /** The seeded tenants with their API keys. */
  readonly tenants: readonly BurstTenant[];
  /** Requests in flight at most (and keep-alive connections). @default 256 */
  readonly maxInFlight?: number;
  /** @default "burst-task" */
  readonly taskId?: string;
  readonly onProgress?: (sent: number, total: number) => void;
}

/** What the sending phase saw. */
export interface BurstSendResult {
  readonly burstId: string;
  readonly sent: number;
  /** 2xx answers. */
  readonly accepted: number;
  /** New runs written to the database inside the request. */
  readonly created: number;
  /** New runs the buffer took (answers carrying its `notice`); idempotent hits excluded. */
  readonly mollified: number;
  /** Idempotent answers that returned an existing run (buffered or stored); never counted as mollified. */
  readonly cached: number;
  readonly failed: number;
  readonly statusCounts: Record<string, number>;
  readonly apiP50Ms: number;
  readonly apiP99Ms: number;
  /** Distinct run ids the API answered with. */
  readonly runIds: string[];
  readonly startedAt: number;
  readonly sendDurationMs: number;
  /** The rate asked for, triggers/s. */
  readonly requestedRatePerSecond: number;
  /** The rate the sender kept (see `achievedRate`): below the requested one when it or the app fell behind. */
  readonly achievedRatePerSecond: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1))] ?? 0;
}

/** Picks the tenants: `orgs` orgs × `envsPerOrg` envs, in the order given. */
export function pickTenants(
  tenants: readonly BurstTenant[],
  orgs: number,
  envsPerOrg: number,
): BurstTenant[] {
  const byOrg = new Map<string, BurstTenant[]>();
  for (const tenant of tenants) byOrg.set(tenant.orgId, [...(byOrg.get(tenant.orgId) ?? []), tenant]);
  return [...byOrg.values()]
    .slice(0, Math.max(1, orgs))
    .flatMap((envs) => envs.slice(0, Math.max(1, envsPerOrg)));
}

/** One JSON POST on `agent`; answers the status and the body text. */
function post(
  url: URL,
  agent: http.Agent,
  apiKey: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Fires a burst of triggers at the app's API and measures what it answered. */
export async function sendBurst(options: BurstOptions): Promise<BurstSendResult> {
  const rate = options.ratePerSecond ?? 400;
  const durationMs = options.durationMs ?? 5_000;
  const skew = Math.min(0.99, Math.max(0, options.skew ?? 0.5));
  const idempotentShare = Math.min(1, Math.max(0, options.idempotentShare ?? 0.1));
  const maxInFlight = options.maxInFlight ?? 256;
  const taskId = options.taskId ?? "burst-task";
  const targets = pickTenants(options.tenants, options.orgs ?? 3, options.envsPerOrg ?? 2);
  if (targets.length === 0) throw new Error("tenants must hold at least one tenant");
  const weights = targets.map((_, index) => (1 - skew) ** index);
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const pick = (): BurstTenant => {
    let roll = Math.random() * totalWeight;
    for (const [index, weight] of weights.entries()) {
      roll -= weight;
      if (roll <= 0) return targets[index] ?? targets[0] ?? (targets.at(-1) as BurstTenant);
    }
    return targets.at(-1) as BurstTenant;
  };

  const burstId = `burst_${randomBytes(6).toString("hex")}`;
  const total = Math.max(1, Math.round((rate * durationMs) / 1_000));
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const runIds = new Set<string>();
  let accepted = 0;
  let created = 0;
  let mollified = 0;
  let cached = 0;
  let failed = 0;
  let sent = 0;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const finished: Promise<void>[] = [];
  // node:http on keep-alive connections rather than fetch, whose per-request CPU made the sender,
  // not the app, the limit at a few thousand triggers per second.
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const url = new URL(`/api/v1/tasks/${encodeURIComponent(taskId)}/trigger`, options.baseUrl);
  const startedAt = Date.now();
  let lastSentAfterMs = 0;

  const fire = async (seq: number): Promise<void> => {
    const tenant = pick();
    const idempotent = Math.random() < idempotentShare;
    const key = idempotent ? `${burstId}-key-${seq % 25}` : undefined;
    const body = {
      payload: { burstId, seq, ...(key ? { key } : {}) },
      options: { tags: ["burst"], ...(key ? { idempotencyKey: key } : {}) },
    };
    const started = performance.now();
    try {
      const response = await post(url, agent, tenant.apiKey, JSON.stringify(body));
      const answer = JSON.parse(response.body) as { id?: string; notice?: string; isCached?: boolean };
      latencies.push(performance.now() - started);
      statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
      const kind = answerKind(response.status, answer);
      if (kind === "failed") failed++;
      else {
        accepted++;
        runIds.add(answer.id as string);
        if (kind === "created") created++;
        else if (kind === "mollified") mollified++;
        else cached++;
      }
    } catch {
      failed++;
      statusCounts.network = (statusCounts.network ?? 0) + 1;
    }
  };

  for (let seq = 0; seq < total; seq++) {
    const due = startedAt + (seq * 1_000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= maxInFlight) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
    }
    lastSentAfterMs = Date.now() - startedAt;
    inFlight++;
    finished.push(
      fire(seq).finally(() => {
        inFlight--;
        slotFreed?.();
        slotFreed = undefined;
      }),
    );
    sent++;
    if (sent % 25 === 0 || sent === total) options.onProgress?.(sent, total);
  }
  await Promise.all(finished);
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    burstId,
    sent,
    accepted,
    created,
    mollified,
    cached,
    failed,
    statusCounts,
    apiP50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
    apiP99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
    runIds: [...runIds],
    startedAt,
    sendDurationMs: Date.now() - startedAt,
    requestedRatePerSecond: rate,
    achievedRatePerSecond: Math.round(achievedRate(sent, lastSentAfterMs, rate) * 10) / 10,
  };
}
