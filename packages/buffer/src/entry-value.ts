import { UnexpectedReplyError } from "./reply.js";

/**
 * The value an entry keeps under its bare run field: `<acceptedAt>|<snapshot>`,
 * the accept time (epoch ms from Redis `TIME`, decimal digits) written in front
 * of the snapshot JSON by the accept scripts, so a queued entry needs one hash
 * field instead of two (see ADR 0004).
 */
export interface EntryValue {
  /** Epoch ms from Redis `TIME` at accept. */
  acceptedAt: number;
  /** The snapshot JSON exactly as accepted. */
  snapshotText: string;
}

/** The error kept on the FAILED record of an entry whose value lacks the `<acceptedAt>|` prefix. */
export const MISSING_ACCEPT_TIME_ERROR = "entry value has no <acceptedAt>| prefix";

const ENTRY_VALUE_PREFIX = /^(\d+)\|/;

/** Splits a stored entry value; `undefined` when it lacks the `<acceptedAt>|` prefix. */
export function parseEntryValue(value: string): EntryValue | undefined {
  const prefix = ENTRY_VALUE_PREFIX.exec(value);
  if (prefix === null) return undefined;
  return { acceptedAt: Number(prefix[1]), snapshotText: value.slice(prefix[0].length) };
}

/** Splits a stored entry value; throws naming `source` (a script or command) when it lacks the prefix. */
export function splitEntryValue(source: string, value: string): EntryValue {
  const parsed = parseEntryValue(value);
  if (parsed === undefined) throw new UnexpectedReplyError(source, value);
  return parsed;
}
