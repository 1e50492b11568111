import { z } from "zod/v3";
import { BufferInputError } from "./errors.js";
import { MAX_SEGMENT_BYTES } from "./keys.js";

/** The only snapshot version this package writes and reads. */
export const SNAPSHOT_SCHEMA_VERSION = 1;

const id = z
  .string()
  .min(1, "must be a non-empty string")
  .refine((value) => Buffer.byteLength(value, "utf8") <= MAX_SEGMENT_BYTES, {
    message: `must be at most ${MAX_SEGMENT_BYTES} bytes`,
  });
const epochMs = z.number().int().nonnegative();

/** Trigger options carried by a snapshot. Unknown option fields are kept as they are. */
export const snapshotOptionsSchema = z
  .object({
    idempotencyKey: id.optional(),
    idempotencyKeyExpiresAt: epochMs.optional(),
    tags: z.array(z.string()).optional(),
    delayUntil: epochMs.optional(),
    ttl: z.union([z.string(), z.number()]).optional(),
    queue: z.string().optional(),
    concurrencyKey: z.string().optional(),
    maxAttempts: z.number().int().positive().optional(),
    priority: z.number().optional(),
    parentRunId: z.string().optional(),
    metadata: z.unknown().optional(),
    metadataType: z.string().optional(),
  })
  .passthrough();

/**
 * The versioned record of one buffered trigger: ids, task, payload (any JSON
 * value), options and epoch-ms timestamps. It must never carry secrets such
 * as API keys.
 */
export const triggerSnapshotSchema = z.object({
  schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
  runId: id,
  orgId: id,
  envId: id,
  taskId: id,
  payload: z.unknown(),
  payloadType: z.string().optional(),
  createdAt: epochMs,
  options: snapshotOptionsSchema,
  traceContext: z.record(z.string()).optional(),
});

/**
 * A validated snapshot. `Payload` is the type the caller put in: the buffer
 * stores any JSON value and checks only that it is one, so the type is the
 * caller's promise (as `MollifierBuffer<Payload>` carries it), not a check.
 */
export type TriggerSnapshot<Payload = unknown> = Omit<z.infer<typeof triggerSnapshotSchema>, "payload"> & {
  payload: Payload;
};
/** Options of a {@link TriggerSnapshot}. */
export type SnapshotOptions = z.infer<typeof snapshotOptionsSchema>;

/** What `accept` takes: a snapshot without its version; `createdAt` defaults to the injected clock. */
export type AcceptInput<Payload = unknown> = Omit<
  TriggerSnapshot<Payload>,
  "schemaVersion" | "createdAt" | "options"
> & {
  createdAt?: number;
  options?: SnapshotOptions;
  /** When given it must be {@link SNAPSHOT_SCHEMA_VERSION}. */
  schemaVersion?: number;
};

// The stored form leaves out the ids already spelled by the entry's key and
// field (org, env, run) and embeds the payload as its own JSON text.
const storedSnapshotSchema = triggerSnapshotSchema.omit({ runId: true, orgId: true, envId: true });

/** A snapshot ready to store: its text and the byte size of its payload. */
export interface EncodedSnapshot {
  readonly snapshot: TriggerSnapshot;
  readonly text: string;
  readonly payloadBytes: number;
}

const PLAIN_ID = /^[\x20-\x7e]+$/;
const TOP_LEVEL_FIELDS = new Set([
  "schemaVersion",
  "runId",
  "orgId",
  "envId",
  "taskId",
  "payload",
  "payloadType",
  "createdAt",
  "options",
  "traceContext",
]);

function isPlainId(value: unknown): value is string {
  return (
    typeof value === "string" && value.length > 0 && value.length <= MAX_SEGMENT_BYTES && PLAIN_ID.test(value)
  );
}

function isEpochMs(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isOptional(value: unknown, type: "string" | "number"): boolean {
  return value === undefined || (typeof value === type && (type === "string" || Number.isFinite(value)));
}

// Checks read the caller's objects in place: a copy per check is a measurable
// share of the accept and lease hot paths.
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A trace context carrier (`traceparent`, `tracestate`): string values only, as the schema's record. */
function isStringRecord(value: unknown): value is Record<string, string> {
  if (!isRecord(value)) return false;
  for (const key in value) if (typeof value[key] !== "string") return false;
  return true;
}

function isPlainOptions(value: unknown): value is SnapshotOptions {
  if (!isRecord(value)) return false;
  const { tags, maxAttempts } = value;
  return (
    (value.idempotencyKey === undefined || isPlainId(value.idempotencyKey)) &&
    (value.idempotencyKeyExpiresAt === undefined || isEpochMs(value.idempotencyKeyExpiresAt)) &&
    (tags === undefined || (Array.isArray(tags) && tags.every((tag) => typeof tag === "string"))) &&
    (value.delayUntil === undefined || isEpochMs(value.delayUntil)) &&
    (isOptional(value.ttl, "string") || isOptional(value.ttl, "number")) &&
    isOptional(value.queue, "string") &&
    isOptional(value.concurrencyKey, "string") &&
    (maxAttempts === undefined ||
      (typeof maxAttempts === "number" && Number.isSafeInteger(maxAttempts) && maxAttempts > 0)) &&
    isOptional(value.priority, "number") &&
    isOptional(value.parentRunId, "string") &&
    isOptional(value.metadataType, "string")
  );
}

/**
 * The accept hot path: builds the snapshot by hand when the input is plainly
 * valid (printable-ASCII ids, known fields of the right types, no trace
 * context) and answers `undefined` otherwise, so zod decides and explains.
 * Whatever it accepts, {@link triggerSnapshotSchema} accepts unchanged
 * (pinned by a property test).
 */
export function plainSnapshot(input: object, createdAt: number): TriggerSnapshot | undefined {
  if (!isRecord(input)) return undefined;
  return plainSnapshotOf(input, input, createdAt);
}

/** The ids of a stored entry: its key and field spell them, so they passed `encodeSegment`. */
interface EntryIds {
  readonly runId: string;
  readonly orgId: string;
  readonly envId: string;
}

/**
 * {@link plainSnapshot} of `fields`, with the ids taken from `ids`. Ids
 * `trusted` to be an entry's (they passed `encodeSegment`, so they already
 * meet the schema's id rule) are not checked again.
 */
function plainSnapshotOf(
  fields: Record<string, unknown>,
  ids: { readonly runId?: unknown; readonly orgId?: unknown; readonly envId?: unknown },
  createdAt: number,
  trusted = false,
): TriggerSnapshot | undefined {
  // `for…in` rather than Object.keys: no array per call on the accept and lease hot paths.
  for (const field in fields) if (!TOP_LEVEL_FIELDS.has(field)) return undefined;
  const { runId, orgId, envId } = ids;
  const { taskId, payloadType, traceContext } = fields;
  const options = fields.options ?? {};
  if (
    !(trusted || (isPlainId(runId) && isPlainId(orgId) && isPlainId(envId))) ||
    !isPlainId(taskId) ||
    !isEpochMs(createdAt) ||
    !(payloadType === undefined || typeof payloadType === "string") ||
    !(traceContext === undefined || isStringRecord(traceContext)) ||
    !isPlainOptions(options)
  ) {
    return undefined;
  }
  const snapshot: TriggerSnapshot = {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    runId: runId as string,
    orgId: orgId as string,
    envId: envId as string,
    taskId,
    payload: fields.payload,
    createdAt,
    options,
  };
  if (payloadType !== undefined) snapshot.payloadType = payloadType;
  // A traced trigger's W3C context (ADR 13) keeps it on this path: zod's costs more than the span.
  if (traceContext !== undefined) snapshot.traceContext = traceContext;
  return snapshot;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "input"} ${issue.message}`).join("; ");
}

/**
 * Validates an accept input and encodes it for storage. Throws
 * {@link BufferInputError} (`INVALID_INPUT` or `PAYLOAD_TOO_LARGE`).
 */
export function encodeSnapshot(input: AcceptInput, now: number, maxPayloadBytes: number): EncodedSnapshot {
  if (typeof input !== "object" || input === null) {
    throw new BufferInputError("INVALID_INPUT", "accept input must be an object");
  }
  if (input.schemaVersion !== undefined && input.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) {
    throw new BufferInputError(
      "INVALID_INPUT",
      `unsupported snapshot schemaVersion ${JSON.stringify(input.schemaVersion)}; this buffer writes version ${SNAPSHOT_SCHEMA_VERSION}`,
    );
  }
  let payloadJson: string | undefined;
  try {
    payloadJson = JSON.stringify(input.payload);
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", "payload is not serialisable as JSON", { cause });
  }
  if (payloadJson === undefined) {
    throw new BufferInputError("INVALID_INPUT", "payload must be a JSON value (got undefined or a function)");
  }
  const payloadBytes = Buffer.byteLength(payloadJson, "utf8");
  if (payloadBytes > maxPayloadBytes) {
    throw new BufferInputError(
      "PAYLOAD_TOO_LARGE",
      `payload is ${payloadBytes} bytes; the buffer accepts at most ${maxPayloadBytes} (maxPayloadBytes)`,
    );
  }
  const createdAt = input.createdAt ?? now;
  let snapshot = plainSnapshot(input, createdAt);
  if (snapshot === undefined) {
    const parsed = triggerSnapshotSchema.safeParse({
      ...input,
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      createdAt,
      options: input.options ?? {},
    });
    if (!parsed.success) {
      throw new BufferInputError("INVALID_INPUT", `invalid accept input: ${describeIssues(parsed.error)}`);
    }
    snapshot = { ...parsed.data, payload: input.payload };
  }
  // The stored form leaves out the ids (the entry's key and field spell them)
  // and the payload, spliced in below as the JSON text measured above, so it
  // is stringified once. Fields are named rather than rest-spread: the copy
  // costs more than the stringify on the accept hot path.
  const { schemaVersion, taskId, payloadType, createdAt: at, options, traceContext } = snapshot;
  const head = JSON.stringify({ schemaVersion, taskId, payloadType, createdAt: at, options, traceContext });
  const text =
    head === "{}" ? `{"payload":${payloadJson}}` : `${head.slice(0, -1)},"payload":${payloadJson}}`;
  return { snapshot, text, payloadBytes };
}

/** The result of reading a stored snapshot back. */
export type DecodedSnapshot = { ok: true; snapshot: TriggerSnapshot } | { ok: false; error: string };

/** Parses and validates a stored snapshot of the entry at `address`; never throws. */
export function decodeSnapshot(address: EntryIds, text: string): DecodedSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "stored snapshot is not valid JSON" };
  }
  // The lease hot path: a plainly valid record is rebuilt by hand; anything else goes through zod.
  if (isRecord(json)) {
    const { schemaVersion, createdAt } = json;
    if (schemaVersion === SNAPSHOT_SCHEMA_VERSION && typeof createdAt === "number" && "payload" in json) {
      const fast = plainSnapshotOf(json, address, createdAt, true);
      if (fast !== undefined) return { ok: true, snapshot: fast };
    }
  }
  const parsed = storedSnapshotSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: `stored snapshot does not match the schema: ${describeIssues(parsed.error)}` };
  }
  return { ok: true, snapshot: { ...parsed.data, payload: parsed.data.payload, ...address } };
}
