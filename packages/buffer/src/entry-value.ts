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

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const BAR = 124;

/** Splits a stored entry value; `undefined` when it lacks the `<acceptedAt>|` prefix. */
export function parseEntryValue(value: string): EntryValue | undefined {
  // Scanned by hand rather than with a regex: this runs once per leased entry.
  let index = 0;
  while (index < value.length) {
    const code = value.charCodeAt(index);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    index++;
  }
  if (index === 0 || value.charCodeAt(index) !== BAR) return undefined;
  return { acceptedAt: Number(value.slice(0, index)), snapshotText: value.slice(index + 1) };
}

/** Splits a stored entry value; throws naming `source` (a script or command) when it lacks the prefix. */
export function splitEntryValue(source: string, value: string): EntryValue {
  const parsed = parseEntryValue(value);
  if (parsed === undefined) throw new UnexpectedReplyError(source, value);
  return parsed;
}
