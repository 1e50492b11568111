/**
 * The reference the demo's trigger route is measured against (`http` case): a
 * bare `node:http` server that reads the body, `JSON.parse`s it, looks the
 * bearer key up in a map and writes the run — `MollifierBuffer.accept`
 * (`REFERENCE_KIND=accept`) or BullMQ `Queue.add` (`REFERENCE_KIND=bullmq`) —
 * and answers `201 { id }`. Started as its own process by
 * `reference-server-process.ts`; prints `listening <port>` when ready.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { MollifierBuffer } from "@mollifier/buffer";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { DEMO_API_KEYS } from "./http-burst.js";

const kind = process.env.REFERENCE_KIND === "bullmq" ? "bullmq" : "accept";
const connection = { host: process.env.REDIS_HOST ?? "127.0.0.1", port: Number(process.env.REDIS_PORT) };
const tenants = new Map(
  DEMO_API_KEYS.map((key) => {
    const [, slug, org] = key.split("_");
    return [key, { orgId: `org_${org}`, envId: `env_${org}_${slug}` }] as const;
  }),
);

async function main(): Promise<void> {
  let write: (run: {
    runId: string;
    orgId: string;
    envId: string;
    taskId: string;
    payload: unknown;
    options: Record<string, unknown>;
  }) => Promise<void>;
  if (kind === "accept") {
    const buffer = new MollifierBuffer({ redis: new Redis(connection), prefix: "reference" });
    write = async (run) => {
      const result = await buffer.accept(run);
      if (result.outcome !== "accepted") throw new Error(`accept answered ${result.outcome}`);
    };
  } else {
    const queue = new Queue("reference", { connection });
    write = async (run) => {
      await queue.add(run.taskId, run, { jobId: run.runId });
    };
  }
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answer = (status: number, body: string) =>
        response
          .writeHead(status, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          })
          .end(body);
      const tenant = tenants.get((request.headers.authorization ?? "").slice(7));
      const taskId = (request.url ?? "").split("/")[4] ?? "task";
      if (tenant === undefined) return answer(401, '{"error":"unauthorized"}');
      let body: { payload?: unknown; options?: Record<string, unknown> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as typeof body;
      } catch {
        return answer(400, '{"error":"body is not valid JSON"}');
      }
      const runId = `run_${randomBytes(12).toString("hex")}`;
      write({ runId, ...tenant, taskId, payload: body.payload, options: body.options ?? {} }).then(
        () => answer(201, JSON.stringify({ id: runId })),
        (error: unknown) => answer(500, JSON.stringify({ error: String(error) })),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    const address = server.address();
    console.log(`listening ${typeof address === "object" && address ? address.port : ""}`);
  });
}

void main();
