// The embedded database's thread: PGlite (Postgres compiled to WebAssembly) runs every query
// synchronously on the thread that owns it, so it runs here, off the event loop that answers
// triggers (docs/adr/0011). Plain JavaScript, so the worker needs no TypeScript loader under
// tsx, vitest or node alike. Protocol (one message per call, answered by `id`):
//   in:  { id, kind: "query", sql, parameters } | { id, kind: "exec", sql } | { id, kind: "close" }
//   out: { ready: true } once, then { id, rows, rowCount } | { id, error: { message, ...fields } }
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";

/** The error's message and its own fields (`code` above all: the app classifies errors by it). */
function serialiseError(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields = { message: error.message, name: error.name };
  for (const [name, value] of Object.entries(error)) {
    if (["string", "number", "boolean"].includes(typeof value)) fields[name] = value;
  }
  return fields;
}

const db = await PGlite.create(workerData?.dataDir);

parentPort.on("message", async (message) => {
  try {
    if (message.kind === "close") {
      await db.close();
      parentPort.postMessage({ id: message.id, rows: [], rowCount: 0 });
      return;
    }
    if (message.kind === "exec") {
      await db.exec(message.sql);
      parentPort.postMessage({ id: message.id, rows: [], rowCount: 0 });
      return;
    }
    const result = await db.query(message.sql, message.parameters);
    parentPort.postMessage({
      id: message.id,
      rows: result.rows,
      rowCount: result.affectedRows ?? result.rows.length,
    });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: serialiseError(error) });
  }
});

parentPort.postMessage({ ready: true });
