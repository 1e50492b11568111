import { type EntryKeys, entryKeys } from "./entry-keys.js";
import { splitEntryValue } from "./entry-value.js";
import { BufferInputError } from "./errors.js";
import { addTagsScript, cancelScript, setDelayScript, setMetadataScript } from "./generated/lua-scripts.js";
import type { BufferKeys } from "./keys.js";
import { type RedisClient, runLuaScript } from "./lua-script.js";
import { taggedReply } from "./reply.js";

/** Longest cancel reason, in characters. */
export const MAX_CANCEL_REASON_LENGTH = 1_024;
/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 128;
/** Largest metadata, in bytes of its JSON text: 256 KiB. */
export const MAX_METADATA_BYTES = 256 * 1024;

/** What the mutations need from the buffer (a subset of the buffer's context). */
export interface MutationsContext {
  readonly redis: RedisClient;
  readonly keys: BufferKeys;
  readonly options: { readonly maxTags: number };
}

/** Names one buffered entry. */
export interface MutationAddress {
  orgId: string;
  envId: string;
  runId: string;
}

/** The entry is leased (being materialised): mutate it in the database once it landed there. */
export type MutationBusy = { outcome: "busy" };
/** No such buffered entry (never accepted, already materialised, failed, or another tenant's id). */
export type MutationNotFound = { outcome: "not_found" };

/** What `cancel` answers. */
export type CancelResult =
  | { outcome: "canceled"; at: number }
  | { outcome: "already_canceled"; at: number }
  | MutationBusy
  | MutationNotFound;
/** What `addTags` answers; `updated` carries all the run's tags. */
export type AddTagsResult =
  | { outcome: "updated"; tags: string[] }
  | { outcome: "too_many_tags"; limit: number }
  | MutationBusy
  | MutationNotFound;
/** What `setMetadata` answers; `version_conflict` carries the current version. */
export type SetMetadataResult =
  | { outcome: "updated"; version: number }
  | { outcome: "version_conflict"; version: number }
  | MutationBusy
  | MutationNotFound;
/** What `setDelay` answers. */
export type SetDelayResult = { outcome: "updated"; delayUntil: number } | MutationBusy | MutationNotFound;

/** What `cancel` takes. */
export interface CancelInput extends MutationAddress {
  /** Why the run was canceled (free text, at most {@link MAX_CANCEL_REASON_LENGTH} characters). */
  reason: string;
}

/** What `addTags` takes. */
export interface AddTagsInput extends MutationAddress {
  /** Tags to add: non-empty, at most {@link MAX_TAG_LENGTH} characters each. */
  tags: readonly string[];
}

/** What `setMetadata` takes. */
export interface SetMetadataInput extends MutationAddress {
  /** The new metadata as JSON text, at most {@link MAX_METADATA_BYTES} bytes. */
  metadata: string;
  /** The version the caller read (`mutations.metadataVersion`; 0 before the first set). */
  expectedVersion: number;
}

/** What `setDelay` takes. */
export interface SetDelayInput extends MutationAddress {
  /** When the run may start, epoch ms. */
  delayUntil: number;
}

function invalid(message: string): BufferInputError {
  return new BufferInputError("INVALID_INPUT", message);
}

function addressKeys(context: MutationsContext, address: MutationAddress): EntryKeys {
  try {
    return entryKeys(context.keys, address);
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

function checkEpochMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${name} must be a non-negative integer (epoch ms), got ${String(value)}`);
  }
  return value;
}

/** Parses a `{tag, ...}` reply: its tag, readers for its fields, and the error for an unknown shape. */
/** The `busy` / `not_found` answers every mutation script shares. */
function blocked(tag: string): MutationBusy | MutationNotFound | undefined {
  if (tag === "busy") return { outcome: "busy" };
  if (tag === "not_found") return { outcome: "not_found" };
  return undefined;
}

/**
 * Cancels a queued or retrying entry: stores when (Redis `TIME`) and why as
 * fields; the drainer then materialises the run as canceled. The snapshot is
 * never rewritten. A second cancel answers `already_canceled` with the first
 * time, even while the entry is leased.
 */
export async function cancel(context: MutationsContext, input: CancelInput): Promise<CancelResult> {
  const { keys, runField } = addressKeys(context, input);
  if (typeof input.reason !== "string" || input.reason.length > MAX_CANCEL_REASON_LENGTH) {
    throw invalid(`reason must be a string of at most ${MAX_CANCEL_REASON_LENGTH} characters`);
  }
  const raw = await runLuaScript(context.redis, cancelScript, [keys.entries], [runField, input.reason]);
  const reply = taggedReply(cancelScript.name, raw);
  if (reply.tag === "canceled") return { outcome: "canceled", at: reply.number(1) };
  if (reply.tag === "already_canceled") return { outcome: "already_canceled", at: reply.number(1) };
  const other = blocked(reply.tag);
  if (other === undefined) throw reply.unexpected();
  return other;
}

/**
 * Adds tags to a queued or retrying entry. The entry's tags are its snapshot's
 * followed by the added ones, deduplicated; when the new set would exceed
 * `maxTags` nothing is written and the answer is `too_many_tags`. `updated`
 * carries the entry's whole tag set.
 */
export async function addTags(context: MutationsContext, input: AddTagsInput): Promise<AddTagsResult> {
  const { keys, runField } = addressKeys(context, input);
  if (!Array.isArray(input.tags)) throw invalid("tags must be an array of strings");
  for (const tag of input.tags) {
    if (typeof tag !== "string" || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      throw invalid(`each tag must be a non-empty string of at most ${MAX_TAG_LENGTH} characters`);
    }
  }
  const limit = context.options.maxTags;
  // More than limit + 1 distinct new tags can only answer too_many_tags, so no more are sent.
  const tags = [...new Set(input.tags)].slice(0, limit + 1);
  // The snapshot is written once and never changes, so its tags can be read before the script;
  // parsing it here keeps a payload of up to 1 MiB from being decoded inside Redis.
  const entryValue = await context.redis.hget(keys.entries, runField);
  if (entryValue === null) return { outcome: "not_found" };
  const { snapshotText } = splitEntryValue("HGET entries", entryValue);
  const raw = await runLuaScript(
    context.redis,
    addTagsScript,
    [keys.entries],
    [runField, limit, JSON.stringify(snapshotTags(snapshotText)), ...tags],
  );
  const reply = taggedReply(addTagsScript.name, raw);
  if (reply.tag === "updated")
    return { outcome: "updated", tags: parseTags(reply.string(1), reply.unexpected) };
  if (reply.tag === "too_many_tags") return { outcome: "too_many_tags", limit: reply.number(1) };
  const other = blocked(reply.tag);
  if (other === undefined) throw reply.unexpected();
  return other;
}

/** The `options.tags` of a stored snapshot; none when it does not parse (lease fails such entries). */
function snapshotTags(text: string): string[] {
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof snapshot !== "object" || snapshot === null || !("options" in snapshot)) return [];
  const { options } = snapshot;
  if (typeof options !== "object" || options === null || !("tags" in options)) return [];
  const { tags } = options;
  return Array.isArray(tags) ? tags.filter((tag: unknown): tag is string => typeof tag === "string") : [];
}

function parseTags(text: string, unexpected: () => Error): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw unexpected();
  return value.map((tag: unknown) => {
    if (typeof tag !== "string") throw unexpected();
    return tag;
  });
}

/**
 * Replaces a queued or retrying entry's metadata (caller JSON text, at most
 * 256 KiB) if its version is still `expectedVersion` (0 before the first set):
 * `updated` with the new version, else `version_conflict` with the current one,
 * so the caller re-reads and tries again.
 */
export async function setMetadata(
  context: MutationsContext,
  input: SetMetadataInput,
): Promise<SetMetadataResult> {
  const { keys, runField } = addressKeys(context, input);
  if (typeof input.metadata !== "string") throw invalid("metadata must be JSON text");
  const bytes = Buffer.byteLength(input.metadata, "utf8");
  if (bytes > MAX_METADATA_BYTES) {
    throw invalid(`metadata is ${bytes} bytes; at most ${MAX_METADATA_BYTES} are accepted`);
  }
  try {
    JSON.parse(input.metadata);
  } catch (cause) {
    throw new BufferInputError("INVALID_INPUT", "metadata is not valid JSON text", { cause });
  }
  if (!Number.isSafeInteger(input.expectedVersion) || input.expectedVersion < 0) {
    throw invalid(`expectedVersion must be a non-negative integer, got ${String(input.expectedVersion)}`);
  }
  const raw = await runLuaScript(
    context.redis,
    setMetadataScript,
    [keys.entries],
    [runField, input.metadata, input.expectedVersion],
  );
  const reply = taggedReply(setMetadataScript.name, raw);
  if (reply.tag === "updated") return { outcome: "updated", version: reply.number(1) };
  if (reply.tag === "version_conflict") return { outcome: "version_conflict", version: reply.number(1) };
  const other = blocked(reply.tag);
  if (other === undefined) throw reply.unexpected();
  return other;
}

/**
 * Sets when a queued or retrying entry's run may start (epoch ms); it
 * overrides the snapshot's `options.delayUntil` when the run is materialised.
 */
export async function setDelay(context: MutationsContext, input: SetDelayInput): Promise<SetDelayResult> {
  const { keys, runField } = addressKeys(context, input);
  const delayUntil = checkEpochMs("delayUntil", input.delayUntil);
  const raw = await runLuaScript(context.redis, setDelayScript, [keys.entries], [runField, delayUntil]);
  const reply = taggedReply(setDelayScript.name, raw);
  if (reply.tag === "updated") return { outcome: "updated", delayUntil };
  const other = blocked(reply.tag);
  if (other === undefined) throw reply.unexpected();
  return other;
}
