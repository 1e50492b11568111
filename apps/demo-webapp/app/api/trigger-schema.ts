import { z } from "zod";

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

export const triggerOptionsSchema = z
  .object({
    idempotencyKey: identifier.optional(),
    /** A duration (`10m`) or seconds. */
    idempotencyKeyTTL: z.union([duration, z.number().int().positive()]).optional(),
    tags: z.array(z.string().min(1).max(128)).max(MAX_TAGS).optional(),
    /** A duration (`30s`) or an ISO date. */
    delay: z.union([duration, z.string().datetime({ offset: true })]).optional(),
    debounce: z.object({ key: identifier, delay: duration }).strict().optional(),
    oneTimeUseToken: identifier.optional(),
    parentRunId: identifier.optional(),
    resumeParentOnCompletion: z.boolean().optional(),
    metadata: z.unknown().optional(),
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
  .object({ payload: z.unknown().optional(), options: triggerOptionsSchema.optional() })
  .strict();
export type TriggerBody = z.infer<typeof triggerBodySchema>;

export const MAX_BATCH_ITEMS = 500;
export const batchBodySchema = z
  .object({ items: z.array(triggerBodySchema).min(1).max(MAX_BATCH_ITEMS) })
  .strict();

export const tagsBodySchema = z
  .object({ tags: z.array(z.string().min(1).max(128)).min(1).max(MAX_TAGS) })
  .strict();
export const metadataBodySchema = z
  .object({ metadata: z.unknown(), expectedVersion: z.number().int().nonnegative().optional() })
  .strict();
export const cancelBodySchema = z.object({ reason: z.string().max(512).optional() }).strict();
export const resetBodySchema = z.object({ taskId: identifier }).strict();

/** The first issue of a zod error as one line: `options.tags: Array must contain at most 10 element(s)`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
