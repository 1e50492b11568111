import { requireInteger, requireNumber } from "./drainer-error.js";

/** Default entries an org (of weight 1) may take per round. */
export const DEFAULT_QUANTUM = 10;

/** Options of {@link FairScheduler}. */
export interface FairSchedulerOptions {
  /**
   * Entries an org of weight 1 may lease per round, and an env per turn inside
   * its org. Smaller is fairer at a finer grain; larger batches more.
   * @default 10
   */
  quantum?: number;
  /**
   * Per-org weights: an org of weight 2 gets twice the share of an org of
   * weight 1 while both are backlogged. Orgs not listed weigh 1.
   * @default {}
   */
  orgWeights?: Readonly<Record<string, number>>;
}

/** Permission to lease up to `count` entries of one env. */
export interface DrainGrant {
  readonly orgId: string;
  readonly envId: string;
  readonly count: number;
}

interface EnvState {
  readonly envId: string;
  deficit: number;
  inTurn: boolean;
}

interface OrgState {
  readonly orgId: string;
  deficit: number;
  inTurn: boolean;
  envs: EnvState[];
  envCursor: number;
}

/**
 * Deficit round robin over orgs, then over the envs of each org. Pure and
 * synchronous: the drainer feeds it the active orgs and envs it reads from the
 * source and asks it which env to lease from next; a grant's credit is spent
 * when it is handed out, so several grants may be outstanding at once.
 *
 * - Each round an org earns `quantum × weight` credits and spends one per
 *   entry leased, so backlogged orgs get shares proportional to their weights
 *   however many envs each has.
 * - Inside an org, envs take turns of `quantum` entries each.
 * - An org or env whose queue runs empty leaves the rotation and loses its
 *   credit (classic DRR), so an idle org's share goes to the busy ones.
 * - A newly active org is served next, once the turn in progress ends, and
 *   then takes its place in the rotation; {@link FairScheduler.needsRefresh}
 *   turns true at every round's end so the caller re-reads the active set at
 *   least once per round.
 */
export class FairScheduler {
  private readonly quantum: number;
  private orgWeights: Readonly<Record<string, number>>;
  private orgs: OrgState[] = [];
  private cursor = 0;
  private roundEnded = true;

  constructor(options: FairSchedulerOptions = {}) {
    this.quantum = requireInteger("quantum", options.quantum ?? DEFAULT_QUANTUM, 1);
    this.orgWeights = validateWeights(options.orgWeights ?? {});
  }

  /** Replaces the per-org weights; takes effect from each org's next turn. */
  setOrgWeights(orgWeights: Readonly<Record<string, number>>): void {
    this.orgWeights = validateWeights(orgWeights);
  }

  /** True when a round ended (or nothing is active) since the last {@link update}. */
  get needsRefresh(): boolean {
    return this.roundEnded || this.orgs.length === 0;
  }

  /** True when no org is in the rotation. */
  get isEmpty(): boolean {
    return this.orgs.length === 0;
  }

  /** Orgs in the rotation, in service order starting with the current one. */
  activeOrgs(): string[] {
    return [...this.orgs.slice(this.cursor), ...this.orgs.slice(0, this.cursor)].map((org) => org.orgId);
  }

  /**
   * Sets the active orgs and their envs (as read from the source). Orgs and
   * envs keep their place and credit; new orgs are served next, new envs join
   * the end of their org's rotation; ones no longer listed leave it.
   */
  update(active: ReadonlyMap<string, readonly string[]>): void {
    const kept: OrgState[] = [];
    // The cursor stays on the current org, or moves to the first kept org after it.
    let cursor = 0;
    this.orgs.forEach((org, index) => {
      const envs = active.get(org.orgId);
      if (envs === undefined || envs.length === 0) return;
      mergeEnvs(org, envs);
      kept.push(org);
      if (index < this.cursor) cursor = kept.length;
    });
    const known = new Set(kept.map((org) => org.orgId));
    const joining: OrgState[] = [];
    for (const [orgId, envs] of active) {
      if (known.has(orgId) || envs.length === 0) continue;
      const org: OrgState = { orgId, deficit: 0, inTurn: false, envs: [], envCursor: 0 };
      mergeEnvs(org, envs);
      joining.push(org);
    }
    // Newly active orgs are served next: a light org behind a heavy backlog
    // waits at most for the turn in progress, and joins the rotation after.
    kept.splice(cursor, 0, ...joining);
    this.orgs = kept;
    this.cursor = cursor < kept.length ? cursor : 0;
    this.roundEnded = false;
  }

  /**
   * The next env to lease from and how many entries it may take (at most
   * `maxCount`), or `undefined` when no org is active. Report its outcome
   * with {@link complete}, or give its credit back with {@link refund}.
   */
  next(maxCount: number): DrainGrant | undefined {
    if (this.orgs.length === 0 || maxCount < 1) return undefined;
    // Terminates: every pass either returns or adds quantum × weight (> 0) to an org's credit.
    for (;;) {
      const org = this.orgs[this.cursor];
      const env = org?.envs[org.envCursor];
      if (org === undefined || env === undefined) throw new Error("FairScheduler: an active org has no envs");
      if (!org.inTurn) {
        org.deficit += this.quantum * (this.orgWeights[org.orgId] ?? 1);
        org.inTurn = true;
      }
      if (org.deficit < 1) {
        this.endOrgTurn(org);
        continue;
      }
      if (!env.inTurn) {
        env.deficit += this.quantum;
        env.inTurn = true;
      }
      const count = Math.min(Math.floor(org.deficit), env.deficit, Math.floor(maxCount));
      // Charged now, so several grants can be outstanding at once without
      // spending one credit twice; complete() refunds what a grant left unused.
      org.deficit -= count;
      env.deficit -= count;
      if (env.deficit < 1) {
        env.inTurn = false;
        org.envCursor = (org.envCursor + 1) % org.envs.length;
      }
      if (org.deficit < 1) this.endOrgTurn(org);
      return { orgId: org.orgId, envId: env.envId, count };
    }
  }

  /**
   * Records what a grant's lease took from the queue (`taken`, leased plus
   * entries the source rejected). Taking fewer than granted means the env ran
   * empty: it leaves its org's rotation (the org leaves when it has no envs
   * left) and the unused credit goes back to the org. Grants may complete in
   * any order, and after an {@link update}.
   */
  complete(grant: DrainGrant, taken: number): void {
    if (taken >= grant.count) return;
    const orgIndex = this.orgs.findIndex((org) => org.orgId === grant.orgId);
    const org = this.orgs[orgIndex];
    if (org === undefined) return;
    org.deficit += grant.count - Math.max(taken, 0);
    const envIndex = org.envs.findIndex((env) => env.envId === grant.envId);
    if (envIndex < 0) return;
    org.envs.splice(envIndex, 1);
    if (envIndex < org.envCursor) org.envCursor -= 1;
    if (org.envCursor >= org.envs.length) org.envCursor = 0;
    if (org.envs.length === 0) this.removeOrg(orgIndex);
  }

  /** Gives back credit of a grant that will not be (fully) leased, e.g. when the rate cap allowed fewer. */
  refund(grant: DrainGrant, unused: number): void {
    const org = this.orgs.find((candidate) => candidate.orgId === grant.orgId);
    if (org !== undefined && unused > 0) org.deficit += Math.min(unused, grant.count);
  }

  private endOrgTurn(org: OrgState): void {
    org.inTurn = false;
    this.cursor += 1;
    if (this.cursor >= this.orgs.length) {
      this.cursor = 0;
      this.roundEnded = true;
    }
  }

  private removeOrg(index: number): void {
    this.orgs.splice(index, 1);
    if (index < this.cursor) this.cursor -= 1;
    if (this.cursor >= this.orgs.length) {
      this.cursor = 0;
      this.roundEnded = true;
    }
  }
}

function mergeEnvs(org: OrgState, envIds: readonly string[]): void {
  const current = org.envs[org.envCursor];
  const listed = new Set(envIds);
  const kept = org.envs.filter((env) => listed.has(env.envId));
  const known = new Set(kept.map((env) => env.envId));
  for (const envId of envIds) {
    if (known.has(envId)) continue;
    known.add(envId);
    kept.push({ envId, deficit: 0, inTurn: false });
  }
  const index = current === undefined ? -1 : kept.indexOf(current);
  org.envs = kept;
  org.envCursor = index >= 0 ? index : Math.min(org.envCursor, Math.max(kept.length - 1, 0));
  if (org.envCursor >= kept.length) org.envCursor = 0;
}

function validateWeights(weights: Readonly<Record<string, number>>): Readonly<Record<string, number>> {
  for (const [orgId, weight] of Object.entries(weights)) requireNumber(`orgWeights[${orgId}]`, weight, 0);
  return { ...weights };
}
