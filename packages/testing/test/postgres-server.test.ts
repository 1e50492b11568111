import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type PostgresServerProcess, startPostgresServer } from "../src/index.js";

function query(server: PostgresServerProcess, sql: string): { ok: boolean; output: string } {
  const result = spawnSync("psql", [server.url, "-Atqc", sql], { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

let server: PostgresServerProcess;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.dispose();
});

test("a private PostgreSQL server answers queries on its own loopback port", () => {
  expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  expect(query(server, "SELECT 40 + 2")).toEqual({ ok: true, output: "42" });
});

test("stop takes the database away and start brings it back with its data", async () => {
  expect(query(server, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)").ok).toBe(true);
  await server.stop();
  expect(query(server, "SELECT 1").ok).toBe(false);
  await server.start();
  expect(query(server, "SELECT id FROM kept")).toEqual({ ok: true, output: "7" });
});
