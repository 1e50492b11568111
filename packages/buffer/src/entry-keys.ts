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

/** Computes an entry's keys from its ids. */
export function entryKeys(keys: BufferKeys, address: EntryAddress): EntryKeys {
  const env = keys.env(address.orgId, address.envId);
  const runField = encodeSegment(address.runId, "runId");
  return { keys: env, runField, member: `${env.org}:${env.env}:${runField}` };
}
