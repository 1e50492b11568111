import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { createRequestListener } from "@react-router/node";
import type { ServerBuild } from "react-router";
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

/** An HTTP server: static assets from the client build, everything else through React Router. */
export function createHttpServer(
  build: ServerBuild,
  services: AppServices,
  directory = BUILD_DIRECTORY,
): http.Server {
  const clientDirectory = join(directory, "client");
  const listener = createRequestListener({ build, mode: "production", getLoadContext: () => ({ services }) });
  return http.createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? "/").split("?")[0] ?? "/");
    if (path === "/favicon.ico") {
      response.writeHead(204).end();
      return;
    }
    if (request.method === "GET" && path !== "/" && !path.startsWith("/api/")) {
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
