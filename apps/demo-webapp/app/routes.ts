import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/dashboard.tsx"),
  route("dashboard/stats", "routes/dashboard.stats.ts"),
  route("dashboard/burst", "routes/dashboard.burst.ts"),
  route("internal/bursts/verify", "routes/internal.bursts.verify.ts"),
  route("api/v1/tasks/:taskId/trigger", "routes/api.v1.tasks.$taskId.trigger.ts"),
  route("api/v1/tasks/:taskId/batch", "routes/api.v1.tasks.$taskId.batch.ts"),
  route("api/v1/runs/:runId", "routes/api.v1.runs.$runId.ts"),
  route("api/v1/runs/:runId/cancel", "routes/api.v1.runs.$runId.cancel.ts"),
  route("api/v1/runs/:runId/tags", "routes/api.v1.runs.$runId.tags.ts"),
  route("api/v1/runs/:runId/metadata", "routes/api.v1.runs.$runId.metadata.ts"),
  route("api/v1/idempotency-keys/:key/reset", "routes/api.v1.idempotency-keys.$key.reset.ts"),
  route("api/v1/buffer", "routes/api.v1.buffer.ts"),
] satisfies RouteConfig;
