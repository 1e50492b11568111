import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import type { LeasedEntry } from "./entry-view.js";
import { releaseScript } from "./generated/lua-scripts.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyString, UnexpectedReplyError } from "./reply.js";

/** What `release` answers. */
export type ReleaseResult = { outcome: "released" } | { outcome: "lease_lost" };

/**
 * Gives a held lease up without spending an attempt: the entry returns to the head of its env
 * queue with the attempts it had, to be leased again at once. For a consumer that could not run
 * the entry because a dependency was down (and is stopping), not because of the entry; a failed
 * delivery is `retry`. `lease_lost` when the token no longer holds the lease.
 */
export async function release(
  context: BufferContext,
  entry: Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken">,
): Promise<ReleaseResult> {
  const { keys, runField, member } = entryKeys(context.keys, entry);
  const script = releaseScript.name;
  const raw = await runLuaScript(
    context.redis,
    releaseScript,
    [keys.entries, keys.queue, keys.orgs, keys.orgEnvs, keys.leases],
    [runField, member, entry.leaseToken, keys.org, keys.env],
  );
  const outcome = replyString(script, replyArray(script, raw)[0]);
  if (outcome === "released" || outcome === "lease_lost") return { outcome };
  throw new UnexpectedReplyError(script, raw);
}
