import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { createRequestListener } from "@react-router/node";
import type { ServerBuild } from "react-router";
import { apiRequestOf } from "../app/api/api-request";
import { dispatchApi } from "../app/api/api-routes.server";
import { type ApiAnswer, JsonResponse } from "../app/api/json-response";
import type { AppServices } from "../app/services.server";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

/** Where `react-router build` writes. */
export const BUILD_DIRECTORY = resolve(import.meta.dirname, "../dist");

/** Loads the server build, or explains how to make one. */
export async function loadServerBuild(directory = BUILD_DIRECTORY): Promise<ServerBuild> {
  const entry = join(directory, "server/index.js");
  if (!existsSync(entry)) {
    throw new Error(
      `no server build at ${entry}: run \`pnpm --filter @mollifier/demo-webapp build\` (or \`pnpm demo\`)`,
    );
  }
  return (await import(entry)) as ServerBuild;
}

/** Answers `/api/*` through the API route table, in this process's module graph (docs/adr/0009). */
async function serveApi(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  services: AppServices,
): Promise<void> {
  let answer: ApiAnswer;
  try {
    answer = await dispatchApi(apiRequestOf(request), services);
  } catch (error) {
    console.error("api error", error);
    answer = Response.json({ error: "internal error", code: "INTERNAL" }, { status: 500 });
  }
  if (answer instanceof JsonResponse) {
    response
      .writeHead(answer.status, { ...answer.headerRecord, "content-length": Buffer.byteLength(answer.body) })
      .end(answer.body);
    return;
  }
  const body = Buffer.from(await answer.arrayBuffer());
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    headers[name] = value;
  });
  headers["content-length"] = String(body.length);
  response.writeHead(answer.status, headers).end(body);
}

/** Extra routes of the server beside the API and the dashboard. */
export interface HttpServerRoutes {
  /** Answers `GET /metrics` (a Prometheus scrape); without it `/metrics` goes to React Router (404). */
  readonly metrics?: (request: http.IncomingMessage, response: http.ServerResponse) => void;
}

/**
 * An HTTP server: `/api/*` through the API route table, `/metrics` when given, static assets
 * from the client build, the dashboard pages through React Router.
 */
export function createHttpServer(
  build: ServerBuild,
  services: AppServices,
  directory = BUILD_DIRECTORY,
  routes: HttpServerRoutes = {},
): http.Server {
  const clientDirectory = join(directory, "client");
  const listener = createRequestListener({ build, mode: "production", getLoadContext: () => ({ services }) });
  return http.createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? "/").split("?")[0] ?? "/");
    if (path === "/favicon.ico") {
      response.writeHead(204).end();
      return;
    }
    if (path === "/api" || path.startsWith("/api/")) {
      void serveApi(request, response, services);
      return;
    }
    if (path === "/metrics" && routes.metrics !== undefined && request.method === "GET") {
      routes.metrics(request, response);
      return;
    }
    if (request.method === "GET" && path !== "/") {
      const file = normalize(join(clientDirectory, path));
      if (file.startsWith(clientDirectory) && existsSync(file) && statSync(file).isFile()) {
        response.writeHead(200, {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "cache-control": path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        });
        createReadStream(file).pipe(response);
        return;
      }
    }
    void listener(request, response);
  });
}
