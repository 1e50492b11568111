import { Worker } from "node:worker_threads";
import type { Database } from "./database.server";

type Answer =
  | { readonly id: number; readonly rows: Record<string, unknown>[]; readonly rowCount: number }
  | { readonly id: number; readonly error: { readonly message: string } & Record<string, unknown> };

interface Pending {
  resolve(result: { rows: Record<string, unknown>[]; rowCount: number }): void;
  reject(error: Error): void;
}

/**
 * An embedded PGlite in a worker thread, behind the {@link Database} interface:
 * each call is one message, answered by id. PGlite runs a query synchronously
 * on its thread (in-process drainer writes took a fifth of the trigger route's
 * CPU on the API's event loop); here only the messages cross it. Errors keep
 * their message and own fields (`code`), so the app's outage classification
 * reads them as before. The worker does not keep the process alive. `schema`
 * is created and made the search path, as for Postgres.
 */
export async function openPgliteThread(dataDir: string | undefined, schema: string): Promise<Database> {
  const worker = new Worker(new URL("./pglite-worker.mjs", import.meta.url), {
    workerData: { dataDir },
  });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let exited: Error | undefined;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once("error", onError);
    worker.once("message", () => {
      worker.off("error", onError);
      resolve();
    });
  });
  worker.on("message", (answer: Answer) => {
    const waiting = pending.get(answer.id);
    if (waiting === undefined) return;
    pending.delete(answer.id);
    if ("error" in answer) waiting.reject(Object.assign(new Error(answer.error.message), answer.error));
    else waiting.resolve({ rows: answer.rows, rowCount: answer.rowCount });
  });
  const failAll = (error: Error) => {
    exited = error;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`the embedded database's thread exited (code ${code})`)));
  worker.unref();

  const call = (message: Record<string, unknown>) =>
    new Promise<{ rows: Record<string, unknown>[]; rowCount: number }>((resolve, reject) => {
      if (exited !== undefined) {
        reject(exited);
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });

  await call({ kind: "exec", sql: `CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema};` });
  return {
    kind: "pglite",
    async query<Row extends Record<string, unknown>>(sql: string, parameters?: readonly unknown[]) {
      const result = await call({ kind: "query", sql, parameters: parameters ? [...parameters] : undefined });
      return result as { rows: Row[]; rowCount: number };
    },
    async close() {
      if (exited !== undefined) return;
      await call({ kind: "close" });
      await worker.terminate();
    },
  };
}
