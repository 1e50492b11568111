import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const APP_DIRECTORY = resolve(import.meta.dirname, "..");
const READY_LINE = /Dashboard:\s+(http:\/\/\S+?)\/\s/;
const READY_TIMEOUT_MS = 60_000;

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
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server/serve.ts"], {
    cwd: APP_DIRECTORY,
    // The gate gets 2 s unless told otherwise: a loaded test machine stalls past its 25 ms budget,
    // and a decision that runs out of time fails open to the database. Each app gets its own
    // embedded database unless one is given: two apps on one inherited DATABASE_URL would share
    // its tables, and one's runs would answer the other's idempotency keys.
    env: {
      ...withoutDatabaseUrl(process.env),
      PORT: "0",
      HOST: "127.0.0.1",
      MOLLIFIER_GATE_TIME_BUDGET_MS: "2000",
      ...environment,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own group, so the stop reaches every process the server may have started.
    detached: true,
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let url: string | undefined;
  while (url === undefined) {
    url = READY_LINE.exec(log)?.[1];
    if (url !== undefined) break;
    if (exitedEarly) throw new Error(`the app exited before it was ready:\n${log}`);
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      throw new Error(`the app was not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(25);
  }
  const base = url;
  return {
    url: base,
    output: () => log,
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
    async stop() {
      if (exitedEarly || child.pid === undefined) return;
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (!exitedEarly && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
