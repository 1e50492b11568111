import { BufferInputError } from "./errors.js";
import type { EntryAddress, EnvKeys } from "./keys.js";
import { type BufferKeys, encodeSegment } from "./keys.js";

/** The keys, hash field and lease/retry member of one entry. */
export interface EntryKeys {
  readonly keys: EnvKeys;
  /** The run's field in the env's entries hash (its encoded id). */
  readonly runField: string;
  /** `<org>:<env>:<run>`, its member in the lease and retry sets. */
  readonly member: string;
}

/**
 * Runs a key computation over caller-supplied ids; an id the key builder
 * refuses (empty, too long) or a shard out of range becomes
 * {@link BufferInputError} (`INVALID_INPUT`), thrown before any Redis call.
 */
export function withValidIds<T>(build: () => T): T {
  try {
    return build();
  } catch (cause) {
    throw asInputError(cause);
  }
}

/** What {@link withValidIds} throws for `cause`. */
function asInputError(cause: unknown): unknown {
  if (cause instanceof TypeError || cause instanceof RangeError) {
    return new BufferInputError("INVALID_INPUT", cause.message, { cause });
  }
  return cause;
}

/**
 * A run id's field in its env's entries hash; an invalid id throws
 * {@link BufferInputError}. For loops over many entries, where a closure per
 * entry (as {@link entryKeys} takes) is a measurable cost.
 */
export function runFieldOf(runId: string): string {
  try {
    return encodeSegment(runId, "runId");
  } catch (cause) {
    throw asInputError(cause);
  }
}

/** The keys of one (org, env); invalid ids throw {@link BufferInputError}. */
export function envKeys(keys: BufferKeys, orgId: string, envId: string): EnvKeys {
  return withValidIds(() => keys.env(orgId, envId));
}

/** Computes an entry's keys from its ids; invalid ids throw {@link BufferInputError}. */
export function entryKeys(keys: BufferKeys, address: EntryAddress): EntryKeys {
  return withValidIds(() => {
    const env = keys.env(address.orgId, address.envId);
    const runField = encodeSegment(address.runId, "runId");
    return { keys: env, runField, member: leaseMember(env, runField) };
  });
}

/** `<org>:<env>:<run>`: the member of an entry in its shard's lease and retry sets. */
export function leaseMember(keys: EnvKeys, runField: string): string {
  return `${keys.org}:${keys.env}:${runField}`;
}
