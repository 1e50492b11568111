/**
 * Field names inside an env's entries hash (`T:entries:<org>:<env>`, see
 * `keys.ts`). The snapshot is stored under the bare run id, prefixed with
 * the accept time (`<acceptedAt>|<snapshot JSON>`, see `entry-value.ts`);
 * every other field of an entry is `<run>:<suffix>`. Lua scripts use the same suffixes literally;
 * this list is the one place that names them.
 *
 * | field                      | written by                 | holds                                         |
 * |----------------------------|----------------------------|-----------------------------------------------|
 * | `<run>`                    | accept (once)              | `<acceptedAt>\|<snapshot JSON>`: epoch ms from |
 * |                            |                            | Redis `TIME`, a bar, the snapshot; never      |
 * |                            |                            | rewritten (one field instead of two)          |
 * | `<run>:state`              | retry (promote deletes it) | `retrying`; absent while queued or leased     |
 * |                            |                            | (saves a field per waiting or leased entry)   |
 * | `<run>:attempts`           | reap, retry                | failed or expired deliveries so far (absent 0)|
 * | `<run>:lease`              | lease, extend              | token of the current lease; present exactly   |
 * |                            |                            | while leased, so it is the leased state too   |
 * | `<run>:canceledAt`         | cancel                     | epoch ms                                      |
 * | `<run>:cancelReason`       | cancel                     | free text                                     |
 * | `<run>:tags`               | add tags                   | JSON array of tags added beyond the snapshot's|
 * | `<run>:metadata`           | set metadata               | JSON text as given by the caller              |
 * | `<run>:metadataVersion`    | set metadata               | integer, +1 per successful set (absent 0)     |
 * | `<run>:delayUntil`         | set delay                  | epoch ms; overrides the snapshot's delay      |
 * | `<run>:idempotencyReset`   | reset idempotency          | `1` once the run's key was released           |
 */
export const ENTRY_FIELD_SUFFIXES = [
  "state",
  "attempts",
  "lease",
  "canceledAt",
  "cancelReason",
  "tags",
  "metadata",
  "metadataVersion",
  "delayUntil",
  "idempotencyReset",
] as const;

export type EntryFieldSuffix = (typeof ENTRY_FIELD_SUFFIXES)[number];

/** The hash field of an entry's `suffix` (the snapshot itself is under `runField`). */
export function entryField(runField: string, suffix: EntryFieldSuffix): string {
  return `${runField}:${suffix}`;
}
