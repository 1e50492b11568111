import type { IncomingMessage } from "node:http";

/**
 * What the API handlers read from a request: method, URL, headers by name and
 * the body as text. A fetch `Request` satisfies it (the tests build those);
 * the server passes {@link apiRequestOf}, which reads the Node request
 * directly: building a fetch `Request` (header copy, a web stream over the
 * body, an abort signal) cost about a sixth of the trigger route's CPU.
 */
export interface ApiRequest {
  readonly method: string;
  /** The absolute URL (`http://host/path?query`). */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** An {@link ApiRequest} over a Node request; its body is read once, on the first `text()`. */
export function apiRequestOf(request: IncomingMessage): ApiRequest {
  const nodeHeaders = request.headers;
  let body: Promise<string> | undefined;
  return {
    method: request.method ?? "GET",
    url: `http://${nodeHeaders.host ?? "localhost"}${request.url ?? "/"}`,
    headers: {
      get(name) {
        const value = nodeHeaders[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
    text() {
      body ??= new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        request.once("error", reject);
      });
      return body;
    },
  };
}
