import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import type { LeasedEntry } from "./entry-view.js";
import { ackScript } from "./generated/lua-scripts.js";
import { snapshotIdempotencyKey } from "./idempotency-index.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";

/** What `ack` answers. */
export type AckResult = { outcome: "acked" } | { outcome: "lease_lost" };

/**
 * Removes a leased entry from the buffer once it has been delivered, and
 * releases its idempotency key if the index still names this run.
 * `lease_lost` when the lease expired and was re-leased or reaped.
 */
export async function ack(
  context: BufferContext,
  entry: Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken" | "snapshot">,
): Promise<AckResult> {
  const { keys, runField, member } = entryKeys(context.keys, entry);
  const idempotencyKey = snapshotIdempotencyKey(context.keys, entry, entry.snapshot);
  const script = ackScript.name;
  const raw = await runLuaScript(
    context.redis,
    ackScript,
    [keys.entries, keys.leases, keys.depth, idempotencyKey ?? keys.entries],
    [
      runField,
      member,
      entry.leaseToken,
      keys.orgDepthField,
      keys.envDepthField,
      idempotencyKey === undefined ? "" : "1",
    ],
  );
  const outcome = replyString(script, replyArray(script, raw)[0]);
  if (outcome === "acked" || outcome === "lease_lost") return { outcome };
  throw new UnexpectedReplyError(script, raw);
}
