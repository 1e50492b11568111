import type { AppServices } from "../services.server";
import { type DegradedCount, jainIndex, TENANT_WINDOW_MS } from "./tenant-activity";

/** One environment's row in the per-tenant view. */
export interface TenantRow {
  readonly orgId: string;
  readonly envId: string;
  readonly envSlug: string;
  readonly depth: number;
  readonly oldestEntryAgeMs: number | null;
  /** Entries drained over the last minute, and their share of all drained. */
  readonly drained: number;
  readonly drainShare: number;
}

/** The per-tenant view: buffer and drain per env, the drain's fairness, and degradations. */
export interface TenantView {
  readonly windowMs: number;
  readonly tenants: readonly TenantRow[];
  /** Totals per org of the rows above. */
  readonly orgs: readonly { orgId: string; depth: number; drained: number; drainShare: number }[];
  /**
   * Jain's index of the drain over the last minute, among the envs that wanted draining (drained
   * something or hold a backlog now): 1 = equal shares. `null` when nothing was drained.
   */
  readonly fairness: number | null;
  readonly decisions: { readonly total: number; readonly degraded: number };
  readonly degraded: readonly DegradedCount[];
}

/** Reads the per-tenant view: depths and ages from the buffer, drains and degradations from `activity`. */
export async function tenantView(services: AppServices): Promise<TenantView> {
  const { activity } = services;
  const drains = activity.drainsPerEnv();
  const drainedOf = (orgId: string, envId: string) =>
    drains.find((row) => row.orgId === orgId && row.envId === envId)?.drained ?? 0;
  const totalDrained = drains.reduce((sum, row) => sum + row.drained, 0);
  const tenants = await Promise.all(
    services.tenants.map(async (tenant): Promise<TenantRow> => {
      const address = { orgId: tenant.orgId, envId: tenant.envId };
      const [depth, oldest] = await Promise.all([
        services.buffer.depth(address),
        services.buffer.oldestEntryAgeMs(address),
      ]);
      const drained = drainedOf(tenant.orgId, tenant.envId);
      return {
        orgId: tenant.orgId,
        envId: tenant.envId,
        envSlug: tenant.envSlug,
        depth,
        oldestEntryAgeMs: oldest ?? null,
        drained,
        drainShare: totalDrained === 0 ? 0 : drained / totalDrained,
      };
    }),
  );
  const orgs = new Map<string, { orgId: string; depth: number; drained: number; drainShare: number }>();
  for (const row of tenants) {
    const org = orgs.get(row.orgId) ?? { orgId: row.orgId, depth: 0, drained: 0, drainShare: 0 };
    org.depth += row.depth;
    org.drained += row.drained;
    org.drainShare += row.drainShare;
    orgs.set(row.orgId, org);
  }
  const wanting = tenants.filter((row) => row.drained > 0 || row.depth > 0).map((row) => row.drained);
  return {
    windowMs: TENANT_WINDOW_MS,
    tenants,
    orgs: [...orgs.values()],
    fairness: jainIndex(wanting) ?? null,
    decisions: activity.decisions(),
    degraded: activity.degradedByReason(),
  };
}
