import type { BufferContext } from "./buffer-options.js";
import { type EntryKeys, entryKeys, withValidIds } from "./entry-keys.js";
import type { FailureKind, LeasedEntry } from "./entry-view.js";
import { failScript } from "./generated/lua-scripts.js";
import { snapshotIdempotencyKey } from "./idempotency-index.js";
import type { EntryAddress } from "./keys.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";
import type { TriggerSnapshot } from "./snapshot.js";

/** What `fail` takes. */
export interface FailRequest {
  /** Why the entry failed; kept on the FAILED record. */
  error: string;
  /** @default "terminal" */
  kind?: FailureKind;
}

/** What `fail` answers. */
export type FailResult = { outcome: "failed" } | { outcome: "lease_lost" };

/**
 * The seven keys both fail scripts (`fail` and `fail-expired-lease`) take: the
 * env's entries, the shard's leases and depth, the FAILED record, the
 * idempotency index (the entries hash stands in when the run has no key), the
 * shard's unreported failures and the env's FAILED index.
 */
export function failedEntryKeys(
  context: BufferContext,
  address: EntryAddress,
  keys: EntryKeys["keys"],
  idempotencyKey: string | undefined,
): [string, string, string, string, string, string, string] {
  return [
    keys.entries,
    keys.leases,
    keys.depth,
    withValidIds(() => context.keys.failed(address.orgId, address.envId, address.runId)),
    idempotencyKey ?? keys.entries,
    keys.unreported,
    keys.failedIndex,
  ];
}

/**
 * Fails a leased entry by its ids and token (also used by `lease` for snapshots that no longer
 * parse). `unreported`: the buffer failed it itself, so it waits in the unreported set until its
 * report is settled (see `unreported.ts`); a caller that fails an entry reports it itself.
 */
export async function failEntry(
  context: BufferContext,
  address: EntryAddress,
  leaseToken: string,
  request: FailRequest,
  snapshot: Pick<TriggerSnapshot, "taskId" | "options"> | undefined,
  unreported = false,
): Promise<FailResult> {
  const { keys, runField, member } = entryKeys(context.keys, address);
  const idempotencyKey = snapshotIdempotencyKey(context.keys, address, snapshot);
  const script = failScript.name;
  const raw = await runLuaScript(
    context.redis,
    failScript,
    failedEntryKeys(context, address, keys, idempotencyKey),
    [
      runField,
      member,
      leaseToken,
      String(request.error),
      request.kind ?? "terminal",
      context.options.failedRetentionMs,
      keys.orgDepthField,
      keys.envDepthField,
      idempotencyKey === undefined ? "" : "1",
      unreported ? context.options.failureReportRetryMs : "",
    ],
  );
  const outcome = replyString(script, replyArray(script, raw)[0]);
  if (outcome === "failed" || outcome === "lease_lost") return { outcome };
  throw new UnexpectedReplyError(script, raw);
}

/**
 * Fails a leased entry terminally: it leaves every queue and index and is kept
 * as a FAILED record (see `getFailed`) for `failedRetentionMs`. Releases its
 * idempotency key if the index still names this run.
 */
export async function fail(
  context: BufferContext,
  entry: LeasedEntry,
  request: FailRequest,
): Promise<FailResult> {
  return failEntry(context, entry, entry.leaseToken, request, entry.snapshot);
}
