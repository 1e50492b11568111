import { index, type RouteConfig, route } from "@react-router/dev/routes";

// The API (`/api/*`) is not here: server/http-server.ts serves it from app/api/api-routes.server.ts,
// in the module graph of the services (docs/adr/0009).
export default [
  index("routes/dashboard.tsx"),
  route("dashboard/stats", "routes/dashboard.stats.ts"),
  route("dashboard/burst", "routes/dashboard.burst.ts"),
  route("dashboard/tenants", "routes/dashboard.tenants.tsx"),
  route("dashboard/inspector", "routes/dashboard.inspector.tsx"),
  route("internal/bursts/verify", "routes/internal.bursts.verify.ts"),
] satisfies RouteConfig;
