/**
 * A JSON answer held as its serialised text: what the hot trigger route
 * answers instead of `Response.json`, whose body is a web stream that the
 * server had to read back (`arrayBuffer`) before writing it — about a seventh
 * of the route's CPU. It offers the part of `Response` the API's callers read
 * (`status`, `ok`, `headers`, `text()`, `json()`); the server writes
 * {@link JsonResponse.body} and {@link JsonResponse.headerRecord} directly.
 */
export class JsonResponse {
  readonly status: number;
  /** The serialised JSON. */
  readonly body: string;
  /** Headers as written, `content-type` included (names in lower case). */
  readonly headerRecord: Readonly<Record<string, string>>;
  #headers: Headers | undefined;

  constructor(value: unknown, init: { status?: number; headers?: Readonly<Record<string, string>> } = {}) {
    this.status = init.status ?? 200;
    this.body = JSON.stringify(value);
    const headers: Record<string, string> = { "content-type": "application/json" };
    for (const [name, headerValue] of Object.entries(init.headers ?? {}))
      headers[name.toLowerCase()] = headerValue;
    this.headerRecord = headers;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** A fetch `Headers` view, built on first use (tests and request idempotency read it). */
  get headers(): Headers {
    this.#headers ??= new Headers(this.headerRecord);
    return this.#headers;
  }

  text(): Promise<string> {
    return Promise.resolve(this.body);
  }

  json(): Promise<unknown> {
    return Promise.resolve(JSON.parse(this.body));
  }
}

/** What an API handler answers: a fetch `Response`, or the lean {@link JsonResponse}. */
export type ApiAnswer = Response | JsonResponse;
