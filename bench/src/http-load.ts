import net from "node:net";
import { performance } from "node:perf_hooks";
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

const HEADER_END = Buffer.from("\r\n\r\n");

/**
 * A closed-loop HTTP/1.1 load generator on raw keep-alive sockets (what
 * autocannon does, without its dependency tree): each connection sends the
 * prebuilt request, reads one answer (status line, `content-length`, body),
 * and sends the next, until `durationMs` is over. Every request is timed on its
 * own. Servers must answer with `content-length` (both measured servers do).
 */
export async function runHttpClosedLoop(options: HttpLoadOptions): Promise<HttpLoadSample> {
  const timings: number[] = [];
  const statusCounts: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + options.durationMs;
  const bodyBytes = Buffer.byteLength(options.body);
  const connection = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const request = Buffer.from(
        `POST ${options.path} HTTP/1.1\r\nhost: ${options.host}:${options.port}\r\n` +
          `authorization: ${options.authorization(index)}\r\ncontent-type: application/json\r\n` +
          `content-length: ${bodyBytes}\r\nconnection: keep-alive\r\n\r\n${options.body}`,
      );
      const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        sentAt = performance.now();
        socket.write(request);
      };
      socket.on("connect", send);
      socket.on("error", reject);
      socket.on("data", (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const headerEnd = pending.indexOf(HEADER_END);
        if (headerEnd < 0) return;
        const head = pending.subarray(0, headerEnd).toString("latin1");
        const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!lengthMatch) {
          socket.destroy();
          reject(new Error(`an answer without content-length: ${head.slice(0, 200)}`));
          return;
        }
        const end = headerEnd + 4 + Number(lengthMatch[1]);
        if (pending.length < end) return;
        timings.push(performance.now() - sentAt);
        const status = head.slice(9, 12);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        pending = pending.subarray(end);
        if (performance.now() < deadline) send();
        else {
          socket.end();
          resolve();
        }
      });
    });
  await Promise.all(Array.from({ length: options.connections }, (_, index) => connection(index)));
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
