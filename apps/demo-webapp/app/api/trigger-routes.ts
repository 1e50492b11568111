// The templates of the routes that trigger runs: the route table matches them, and with tracing on
// they name the request's span and its `http.route`. A module of its own, without OpenTelemetry, so
// the route table does not load the tracing code when tracing is off.

/** One run: `POST /api/v1/tasks/:taskId/trigger` (the trigger.dev SDK's `tasks.trigger` too). */
export const TRIGGER_ROUTE = "/api/v1/tasks/:taskId/trigger";
/** The demo's one-step batch: `{ items: [...] }`, every item a run. */
export const BATCH_ROUTE = "/api/v1/tasks/:taskId/batch";
/** The trigger.dev SDK's batch items: an NDJSON stream into a batch made by `POST /api/v3/batches`. */
export const BATCH_ITEMS_ROUTE = "/api/v3/batches/:batchId/items";
