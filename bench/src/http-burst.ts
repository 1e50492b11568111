import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { jsonPostRequest, RawHttpConnection } from "./raw-http-connection.js";

/**
 * The demo app's seeded tenants (three orgs, two envs each). Their API keys are
 * fixed by the demo's seed (`mk_<slug>_<org>_demo`) so its README's curl works.
 */
export const DEMO_API_KEYS: readonly string[] = ["acme", "globex", "initech"].flatMap((org) =>
  ["prod", "staging"].map((slug) => `mk_${slug}_${org}_demo`),
);

/** Options of {@link sendHttpBurst}. */
export interface HttpBurstOptions {
  readonly url: string;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** Requests in flight at most; a request due while the cap is reached waits (offered rate drops). */
  readonly maxInFlight: number;
}

/** One request's fate. */
export interface BurstRequest {
  /** ms since the burst started. */
  readonly sentAtMs: number;
  readonly completedAtMs: number;
  readonly ok: boolean;
  /** The answer was a buffered (mollified) run: it carries the buffer's `notice`. */
  readonly buffered: boolean;
}

/** What the sending side measured. */
export interface HttpBurstResult {
  readonly burstId: string;
  readonly startedAt: number;
  readonly sendDurationMs: number;
  /** ms from the first to the last request sent (the offered phase). */
  readonly offeredDurationMs: number;
  readonly requests: readonly BurstRequest[];
  readonly runIds: readonly string[];
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly latenciesMs: Float64Array;
}

/**
 * Sends `ratePerSecond × durationMs` triggers to the demo app's
 * `POST /api/v1/tasks/:taskId/trigger`, open loop on a fixed schedule (capped
 * at `maxInFlight`), spread evenly over the seeded envs. Payloads carry the
 * burst id and a sequence number so the app can verify the burst afterwards.
 *
 * The `maxInFlight` keep-alive connections are opened before the first request,
 * as a load generator's pool is: a burst comes from clients that are already
 * connected, and a few hundred connects in the first second would measure the
 * sender's and the kernel's connection set-up on two shared cores, not the API.
 */
export async function sendHttpBurst(options: HttpBurstOptions): Promise<HttpBurstResult> {
  const burstId = `bench_${randomBytes(6).toString("hex")}`;
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const requests: BurstRequest[] = [];
  const latencies: number[] = [];
  const runIds: string[] = [];
  const statusCounts: Record<string, number> = {};
  const target = new URL(options.url);
  const host = target.hostname;
  const port = Number(target.port || 80);
  const connections = await openConnections(host, port, Math.min(options.maxInFlight, total));
  // Idle connections, reused in turn (first idle first) so none sits idle long enough for the server
  // to close it; a connection the server closed anyway is replaced.
  const idle = [...connections];
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let lastSentAtMs = 0;
  const startedAt = Date.now();
  const origin = performance.now();
  const fire = async (sequence: number) => {
    const sentAtMs = performance.now() - origin;
    let ok = false;
    let buffered = false;
    let status = "network";
    let connection = idle.shift();
    while (connection !== undefined && !connection.usable) connection = idle.shift();
    if (connection === undefined) {
      connection = new RawHttpConnection(host, port);
      connections.push(connection);
    }
    try {
      const response = await connection.request(
        jsonPostRequest(
          host,
          port,
          "/api/v1/tasks/bench-task/trigger",
          { authorization: `Bearer ${DEMO_API_KEYS[sequence % DEMO_API_KEYS.length]}` },
          JSON.stringify({ payload: { burstId, seq: sequence }, options: { tags: ["bench"] } }),
        ),
      );
      idle.push(connection);
      status = String(response.status);
      const answer = JSON.parse(response.body.toString()) as { id?: unknown; notice?: unknown };
      buffered = typeof answer.notice === "string";
      if (response.status >= 200 && response.status < 300 && typeof answer.id === "string") {
        ok = true;
        runIds.push(answer.id);
      }
    } catch {
      // counted as a network failure; a broken connection is not reused
    }
    const completedAtMs = performance.now() - origin;
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    latencies.push(completedAtMs - sentAtMs);
    requests.push({ sentAtMs, completedAtMs, ok, buffered });
  };
  const finished: Promise<void>[] = [];
  for (let sequence = 0; sequence < total; sequence++) {
    const wait = (sequence * 1000) / options.ratePerSecond - (performance.now() - origin);
    if (wait > 1) await sleep(wait);
    while (inFlight >= options.maxInFlight) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
    }
    lastSentAtMs = performance.now() - origin;
    inFlight++;
    finished.push(
      fire(sequence).finally(() => {
        inFlight--;
        slotFreed?.();
        slotFreed = undefined;
      }),
    );
  }
  await Promise.all(finished);
  for (const connection of connections) connection.close();
  return {
    burstId,
    startedAt,
    sendDurationMs: performance.now() - origin,
    offeredDurationMs: lastSentAtMs,
    requests,
    runIds,
    statusCounts,
    latenciesMs: Float64Array.from(latencies),
  };
}

/** Opens `count` keep-alive connections and waits until every one is connected. */
async function openConnections(host: string, port: number, count: number): Promise<RawHttpConnection[]> {
  const connections = Array.from({ length: count }, () => new RawHttpConnection(host, port));
  await Promise.all(connections.map((connection) => connection.connected));
  return connections;
}
