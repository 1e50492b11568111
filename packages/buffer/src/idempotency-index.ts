import type { BufferKeys, EntryAddress } from "./keys.js";
import type { TriggerSnapshot } from "./snapshot.js";

/** The idempotency index key a snapshot holds, if it carries an idempotency key. */
export function snapshotIdempotencyKey(
  keys: BufferKeys,
  address: EntryAddress,
  snapshot: Pick<TriggerSnapshot, "taskId" | "options"> | undefined,
): string | undefined {
  const key = snapshot?.options.idempotencyKey;
  return key === undefined
    ? undefined
    : keys.idempotency(address.orgId, address.envId, snapshot?.taskId ?? "", key);
}
