import { performance } from "node:perf_hooks";
import { jsonPostRequest, RawHttpConnection } from "./raw-http-connection.js";
import { latencySummary } from "./statistics.js";

/** Options of {@link runHttpClosedLoop}. */
export interface HttpLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Keep-alive connections, each with one request in flight (closed loop). */
  readonly connections: number;
  readonly durationMs: number;
  /** The request body (JSON); the same bytes on every request. */
  readonly body: string;
  /** `Authorization` header of connection `index`. */
  readonly authorization: (connection: number) => string;
}

/** What one run measured. */
export interface HttpLoadSample {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers by status code; anything but 2xx is a failed request. */
  readonly statusCounts: Readonly<Record<string, number>>;
}

/**
 * A closed-loop HTTP/1.1 load generator on raw keep-alive sockets (what
 * autocannon does, without its dependency tree): each connection sends the
 * prebuilt request, reads one answer, and sends the next, until `durationMs`
 * is over. Every request is timed on its own.
 */
export async function runHttpClosedLoop(options: HttpLoadOptions): Promise<HttpLoadSample> {
  const timings: number[] = [];
  const statusCounts: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + options.durationMs;
  const loop = async (index: number) => {
    const request = jsonPostRequest(
      options.host,
      options.port,
      options.path,
      { authorization: options.authorization(index) },
      options.body,
    );
    const connection = new RawHttpConnection(options.host, options.port);
    try {
      while (performance.now() < deadline) {
        const begin = performance.now();
        const answer = await connection.request(request);
        timings.push(performance.now() - begin);
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
      }
    } finally {
      connection.close();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, index) => loop(index)));
  const elapsedMs = performance.now() - started;
  const { p50, p99 } = latencySummary(Float64Array.from(timings));
  return {
    requests: timings.length,
    requestsPerSecond: (timings.length / elapsedMs) * 1000,
    p50Ms: p50,
    p99Ms: p99,
    statusCounts,
  };
}
