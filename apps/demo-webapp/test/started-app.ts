import { startDemoProcess } from "./demo-process";

const READY_LINE = /Dashboard:\s+(http:\/\/\S+?)\/\s/;

/** An answer of the started app. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: API answers are JSON read by assertions
  readonly body: any;
}

/** The demo app started as `pnpm demo` runs it: `node --import tsx server/serve.ts`, a real process on a free port. */
export interface StartedApp {
  /** `http://127.0.0.1:<port>`, as the app printed it. */
  readonly url: string;
  /** What the process printed, for failure messages. */
  output(): string;
  /** Sends `method path` with acme prod's key (or `key`; `""` sends none) and reads the JSON answer. */
  api(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  stop(): Promise<void>;
}

/** acme's prod key, as the app seeds it. */
export const ACME_PROD_KEY = "mk_prod_acme_demo";

function withoutDatabaseUrl(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _inherited, ...rest } = environment;
  return rest;
}

/**
 * Starts `server/serve.ts` with `environment` (PORT=0, a 2 s gate budget and an embedded database
 * unless given) and
 * resolves once it prints its dashboard URL. Needs a build (`dist/`), as
 * `pnpm demo` does: the test script's turbo dependency, or `pnpm build`.
 */
export async function startApp(environment: Record<string, string>): Promise<StartedApp> {
  const app = await startDemoProcess(
    "app",
    "server/serve.ts",
    // The gate gets 2 s unless told otherwise: a loaded test machine stalls past its 25 ms budget,
    // and a decision that runs out of time fails open to the database. Each app gets its own
    // embedded database unless one is given: two apps on one inherited DATABASE_URL would share
    // its tables, and one's runs would answer the other's idempotency keys.
    {
      ...withoutDatabaseUrl(process.env),
      PORT: "0",
      HOST: "127.0.0.1",
      MOLLIFIER_GATE_TIME_BUDGET_MS: "2000",
      ...environment,
    },
    READY_LINE,
  );
  const base = app.ready;
  return {
    url: base,
    output: app.output,
    async api(method, path, options = {}) {
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const key = options.key ?? ACME_PROD_KEY;
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...(key === "" ? {} : { authorization: `Bearer ${key}` }),
          ...options.headers,
        },
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: the assertion shows the text.
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    stop: app.stop,
  };
}
