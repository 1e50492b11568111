import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Acknowledged, TENANTS } from "./trigger-load.js";

/** What the database holds for the acknowledged triggers once the buffer has drained. */
export interface Verdict {
  /** Distinct run ids the API acknowledged. */
  readonly acknowledged: number;
  /** Acknowledged ids with no row and no answer from the API: a promise broken. */
  readonly lost: string[];
  /** (env, key) pairs for which more than one acknowledged run exists. */
  readonly duplicated: string[];
  /** Acknowledged ids whose run ended failed (`SYSTEM_FAILURE` and the like). */
  readonly failed: string[];
  /** Whether the buffer was empty when the check ran. */
  readonly drained: boolean;
}

interface RunRow {
  id: string;
  status: string;
}

async function bufferDepth(depthOf: () => Promise<number>): Promise<number> {
  try {
    return await depthOf();
  } catch {
    return Number.NaN;
  }
}

/**
 * Waits (up to `timeoutMs`) until the buffer is empty and every acknowledged
 * run has its row, then reports lost, duplicated and failed runs. An
 * acknowledged id without a row of its own is asked of the API: a run that
 * resolved to the run holding its idempotency key is answered there.
 */
export async function verifyRuns(options: {
  readonly databaseUrl: string;
  readonly baseUrl: string;
  readonly acknowledged: readonly Acknowledged[];
  readonly bufferDepth: () => Promise<number>;
  readonly timeoutMs: number;
}): Promise<Verdict> {
  const ids = [...new Set(options.acknowledged.map((ack) => ack.runId))];
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + options.timeoutMs;
    let rows = new Map<string, RunRow>();
    let depth = Number.NaN;
    for (;;) {
      const result = await client.query<RunRow>("SELECT id, status FROM runs WHERE id = ANY($1)", [ids]);
      rows = new Map(result.rows.map((row) => [row.id, row]));
      depth = await bufferDepth(options.bufferDepth);
      if ((rows.size === ids.length && depth === 0) || Date.now() > deadline) break;
      await sleep(250);
    }
    // Each acknowledged id's run: its own row, or the run the API answers for it (a buffered run
    // that met its idempotency key taken resolves to the run holding it).
    const finalRunOf = new Map<string, string>();
    const lost: string[] = [];
    for (const id of ids) {
      if (rows.has(id)) {
        finalRunOf.set(id, id);
        continue;
      }
      const answered = await runAnsweredByApi(options.baseUrl, options.acknowledged, id);
      if (answered === undefined) lost.push(id);
      else finalRunOf.set(id, answered);
    }
    const failed = [...rows.values()].filter((row) => /FAIL/i.test(row.status)).map((row) => row.id);
    return {
      acknowledged: ids.length,
      lost,
      duplicated: duplicatedKeys(options.acknowledged, finalRunOf),
      failed,
      drained: depth === 0,
    };
  } finally {
    await client.end();
  }
}

// Every acknowledged trigger of one (env, key) must come to one run.
function duplicatedKeys(
  acknowledged: readonly Acknowledged[],
  finalRunOf: ReadonlyMap<string, string>,
): string[] {
  const runsByKey = new Map<string, Set<string>>();
  for (const ack of acknowledged) {
    if (ack.idempotencyKey === undefined) continue;
    const key = `${ack.envId}/${ack.idempotencyKey}`;
    const runs = runsByKey.get(key) ?? new Set<string>();
    runs.add(finalRunOf.get(ack.runId) ?? ack.runId);
    runsByKey.set(key, runs);
  }
  return [...runsByKey.entries()]
    .filter(([, runs]) => runs.size > 1)
    .map(([key, runs]) => `${key}: ${[...runs].join(", ")}`);
}

/** The id of the run the API answers for `runId`, or `undefined` when it answers none. */
async function runAnsweredByApi(
  baseUrl: string,
  acknowledged: readonly Acknowledged[],
  runId: string,
): Promise<string | undefined> {
  const envId = acknowledged.find((ack) => ack.runId === runId)?.envId;
  const apiKey = TENANTS.find((tenant) => tenant.envId === envId)?.apiKey;
  const response = await fetch(`${baseUrl}/api/v1/runs/${encodeURIComponent(runId)}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  }).catch(() => undefined);
  if (response?.status !== 200) return undefined;
  const body = (await response.json().catch(() => undefined)) as { id?: unknown } | undefined;
  return typeof body?.id === "string" ? body.id : undefined;
}
