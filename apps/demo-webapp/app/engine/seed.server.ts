import type { Database } from "./database.server";

/** One seeded environment and the API key that authenticates as it. */
export interface SeededEnvironment {
  readonly orgId: string;
  readonly orgName: string;
  readonly envId: string;
  readonly envSlug: string;
  readonly apiKey: string;
}

const ORGS = [
  { id: "org_acme", name: "Acme" },
  { id: "org_globex", name: "Globex" },
  { id: "org_initech", name: "Initech" },
] as const;
const ENV_SLUGS = ["prod", "staging"] as const;

/** The demo's tenants: three orgs with two environments each. Keys are fixed so the README's curl works. */
export const SEEDED_ENVIRONMENTS: readonly SeededEnvironment[] = ORGS.flatMap((org) =>
  ENV_SLUGS.map((slug) => ({
    orgId: org.id,
    orgName: org.name,
    envId: `env_${org.id.slice(4)}_${slug}`,
    envSlug: slug,
    apiKey: `mk_${slug}_${org.id.slice(4)}_demo`,
  })),
);

/** Writes the seeded orgs and environments (idempotent). */
export async function seedTenants(database: Database): Promise<readonly SeededEnvironment[]> {
  for (const org of ORGS) {
    await database.query("INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      org.id,
      org.name,
    ]);
  }
  for (const env of SEEDED_ENVIRONMENTS) {
    await database.query(
      "INSERT INTO environments (id, org_id, slug, api_key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      [env.envId, env.orgId, env.envSlug, env.apiKey],
    );
  }
  return SEEDED_ENVIRONMENTS;
}

/** Environment of an API key, loaded from the database once and cached. */
export async function loadApiKeys(database: Database): Promise<Map<string, SeededEnvironment>> {
  const result = await database.query(
    `SELECT e.id AS env_id, e.slug, e.api_key, o.id AS org_id, o.name
     FROM environments e JOIN organizations o ON o.id = e.org_id`,
  );
  return new Map(
    result.rows.map((row) => [
      String(row.api_key),
      {
        orgId: String(row.org_id),
        orgName: String(row.name),
        envId: String(row.env_id),
        envSlug: String(row.slug),
        apiKey: String(row.api_key),
      },
    ]),
  );
}
