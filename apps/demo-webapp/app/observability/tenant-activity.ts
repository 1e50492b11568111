import type { DecisionEvent, DegradedEvent, DrainedEvent, MollifierRecorder } from "@mollifier/telemetry";

/** How far back the per-tenant view looks. */
export const TENANT_WINDOW_MS = 60_000;
const BUCKET_MS = 1_000;

/** Drains of one env over the window. */
export interface EnvDrains {
  readonly orgId: string;
  readonly envId: string;
  readonly drained: number;
}

/** Degraded events of one component and reason over the window. */
export interface DegradedCount {
  readonly component: string;
  readonly reason: string;
  readonly count: number;
}

interface Bucket {
  readonly start: number;
  /** `<org>\u0000<env>` → drained entries. */
  readonly drained: Map<string, number>;
  /** `<component>\u0000<reason>` → degraded events. */
  readonly degraded: Map<string, number>;
  /** Gate decisions and those that failed open (`reason: degraded`). */
  decisions: number;
  degradedDecisions: number;
}

const SEPARATOR = "\u0000";

/**
 * Jain's fairness index of `shares`: (Σx)² / (n·Σx²), 1 when every share is equal, 1/n when one
 * takes everything. `undefined` for no shares or all zero.
 */
export function jainIndex(shares: readonly number[]): number | undefined {
  const sum = shares.reduce((total, share) => total + share, 0);
  const squares = shares.reduce((total, share) => total + share * share, 0);
  if (shares.length === 0 || squares === 0) return undefined;
  return (sum * sum) / (shares.length * squares);
}

/**
 * A recorder that keeps what the per-tenant view needs over the last minute, in one-second
 * buckets: drains per env and degraded events by component and reason. Tenant ids stay in this
 * process (the dashboard); they never become metric labels.
 */
export class TenantActivity implements MollifierRecorder {
  readonly #clock: () => number;
  readonly #buckets: Bucket[] = [];

  constructor(options: { clock?: () => number } = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  #current(): Bucket {
    const start = Math.floor(this.#clock() / BUCKET_MS) * BUCKET_MS;
    const last = this.#buckets.at(-1);
    if (last !== undefined && last.start === start) return last;
    const bucket: Bucket = {
      start,
      drained: new Map(),
      degraded: new Map(),
      decisions: 0,
      degradedDecisions: 0,
    };
    this.#buckets.push(bucket);
    while ((this.#buckets[0]?.start ?? start) <= start - TENANT_WINDOW_MS) this.#buckets.shift();
    return bucket;
  }

  #window(windowMs: number): Bucket[] {
    const from = this.#clock() - windowMs;
    return this.#buckets.filter((bucket) => bucket.start + BUCKET_MS > from);
  }

  decision(event: DecisionEvent): void {
    const bucket = this.#current();
    bucket.decisions++;
    if (event.reason === "degraded") bucket.degradedDecisions++;
  }

  drained(event: DrainedEvent): void {
    const key = `${event.orgId}${SEPARATOR}${event.envId}`;
    const bucket = this.#current();
    bucket.drained.set(key, (bucket.drained.get(key) ?? 0) + 1);
  }

  degraded(event: DegradedEvent): void {
    const key = `${event.component}${SEPARATOR}${event.reason}`;
    const bucket = this.#current();
    bucket.degraded.set(key, (bucket.degraded.get(key) ?? 0) + 1);
  }

  /** Entries drained per env over the last `windowMs`. */
  drainsPerEnv(windowMs = TENANT_WINDOW_MS): EnvDrains[] {
    const totals = new Map<string, number>();
    for (const bucket of this.#window(windowMs)) {
      for (const [key, count] of bucket.drained) totals.set(key, (totals.get(key) ?? 0) + count);
    }
    return [...totals].map(([key, drained]) => {
      const [orgId = "", envId = ""] = key.split(SEPARATOR);
      return { orgId, envId, drained };
    });
  }

  /** Degraded events by component and reason over the last `windowMs`, most first. */
  degradedByReason(windowMs = TENANT_WINDOW_MS): DegradedCount[] {
    const totals = new Map<string, number>();
    for (const bucket of this.#window(windowMs)) {
      for (const [key, count] of bucket.degraded) totals.set(key, (totals.get(key) ?? 0) + count);
    }
    return [...totals]
      .map(([key, count]) => {
        const [component = "", reason = ""] = key.split(SEPARATOR);
        return { component, reason, count };
      })
      .sort((a, b) => b.count - a.count);
  }

  /** Gate decisions over the last `windowMs`, and those that failed open. */
  decisions(windowMs = TENANT_WINDOW_MS): { total: number; degraded: number } {
    let total = 0;
    let degraded = 0;
    for (const bucket of this.#window(windowMs)) {
      total += bucket.decisions;
      degraded += bucket.degradedDecisions;
    }
    return { total, degraded };
  }

  buffered(): void {}
  retried(): void {}
  failed(): void {}
  reaped(): void {}
  claim(): void {}
  drainLimits(): void {}
  bufferStats(): void {}
}
