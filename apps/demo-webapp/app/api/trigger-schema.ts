import { z } from "zod/v4";
import { metadataOperationSchema } from "./metadata-operations";

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration such as `30s`, `10m`, `1h`, `2d`. */
export function durationMs(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? 1_000);
}

const duration = z.string().regex(DURATION, "must be a duration like 30s, 10m, 1h or 2d");
const identifier = z.string().min(1).max(256);

export const MAX_TAGS = 10;

const tag = z.string().min(1).max(128);

/**
 * Options of trigger.dev's `TriggerTaskRequestBody` that the demo accepts and
 * does not act on: it has no queues, machines, versions, regions or attempts.
 * `payloadType` and `metadataType` are acted on (see `sdk-payload.ts`).
 */
const triggerDevOptions = {
  payloadType: z.string().max(64).optional(),
  payloadSize: z.number().int().nonnegative().optional(),
  metadataType: z.string().max(64).optional(),
  /** The caller's key and scope behind a hashed `idempotencyKey`. */
  idempotencyKeyOptions: z
    .object({ key: z.string(), scope: z.enum(["run", "attempt", "global"]) })
    .strict()
    .optional(),
  queue: z.object({ name: z.string(), concurrencyLimit: z.number().int().optional() }).optional(),
  concurrencyKey: z.string().max(128).optional(),
  concurrency: z.unknown().optional(),
  gates: z.unknown().optional(),
  test: z.boolean().optional(),
  ttl: z.union([z.string(), z.number().int().nonnegative()]).optional(),
  maxAttempts: z.number().int().optional(),
  maxDuration: z.number().optional(),
  machine: z.string().optional(),
  priority: z.number().optional(),
  region: z.string().optional(),
  lockToVersion: z.string().optional(),
  externalDeploymentId: z.string().optional(),
  parentBatch: z.string().optional(),
  bulkActionId: z.string().optional(),
};

export const triggerOptionsSchema = z
  .object({
    idempotencyKey: identifier.optional(),
    /** A duration (`10m`) or seconds. */
    idempotencyKeyTTL: z.union([duration, z.number().int().positive()]).optional(),
    /** A list or one tag (as trigger.dev accepts); the list first, the form SDKs send. */
    tags: z
      .union([z.array(tag), tag.transform((one) => [one])])
      .pipe(z.array(tag).max(MAX_TAGS))
      .optional(),
    /** A duration (`30s`) or an ISO date. */
    delay: z.union([duration, z.string().datetime({ offset: true })]).optional(),
    debounce: z
      .object({
        key: identifier,
        delay: duration,
        mode: z.enum(["leading", "trailing"]).optional(),
        maxDelay: duration.optional(),
      })
      .strict()
      .optional(),
    oneTimeUseToken: identifier.optional(),
    parentRunId: identifier.optional(),
    resumeParentOnCompletion: z.boolean().optional(),
    metadata: z.unknown().optional(),
    ...triggerDevOptions,
  })
  .strict()
  .refine((options) => !options.resumeParentOnCompletion || options.parentRunId !== undefined, {
    message: "resumeParentOnCompletion needs parentRunId",
    path: ["resumeParentOnCompletion"],
  })
  .refine((options) => options.idempotencyKeyTTL === undefined || options.idempotencyKey !== undefined, {
    message: "idempotencyKeyTTL needs idempotencyKey",
    path: ["idempotencyKeyTTL"],
  });

export type TriggerOptions = z.infer<typeof triggerOptionsSchema>;

export const triggerBodySchema = z
  .object({
    payload: z.unknown().optional(),
    /** trigger.dev's trace context; accepted, not used. */
    context: z.unknown().optional(),
    options: triggerOptionsSchema.optional(),
  })
  .strict();
export type TriggerBody = z.infer<typeof triggerBodySchema>;

export const MAX_BATCH_ITEMS = 500;
export const batchBodySchema = z
  .object({ items: z.array(triggerBodySchema).min(1).max(MAX_BATCH_ITEMS) })
  .strict();

export const tagsBodySchema = z
  .object({
    tags: z.union([z.array(tag), tag.transform((one) => [one])]).pipe(z.array(tag).min(1).max(MAX_TAGS)),
  })
  .strict();
export const metadataBodySchema = z
  .object({
    metadata: z.unknown().optional(),
    expectedVersion: z.number().int().nonnegative().optional(),
    /** trigger.dev's metadata operations, applied in order after `metadata` (see `metadata-operations.ts`). */
    operations: z.array(metadataOperationSchema).max(1_000).optional(),
    /** Operations on a parent or root run: the demo's runs have none, so these are accepted and dropped. */
    parentOperations: z.array(metadataOperationSchema).optional(),
    rootOperations: z.array(metadataOperationSchema).optional(),
  })
  .strict()
  .refine((body) => body.metadata !== undefined || body.operations !== undefined, {
    message: "metadata or operations is required",
    path: ["metadata"],
  });
export const cancelBodySchema = z.object({ reason: z.string().max(512).optional() }).strict();
export const resetBodySchema = z.object({ taskId: identifier }).strict();

/** The first issue of a zod error as one line: `options.tags: Too big: expected array to have <=10 items`. */
export function describeIssue(error: z.ZodError): string {
  let issue: z.core.$ZodIssue | undefined = error.issues[0];
  if (!issue) return "invalid request";
  let path = issue.path;
  // A union names no reason of its own ("Invalid input"): the first alternative's says what was
  // expected (`options.delay: must be a duration like 30s, …`).
  while (issue.code === "invalid_union" && issue.errors[0]?.[0] !== undefined) {
    issue = issue.errors[0][0];
    path = [...path, ...issue.path];
  }
  const at = path.join(".");
  return at ? `${at}: ${issue.message}` : issue.message;
}
