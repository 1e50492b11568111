import { retryDelayMs } from "./backoff.js";
import type { BufferContext } from "./buffer-options.js";
import { entryKeys } from "./entry-keys.js";
import type { LeasedEntry } from "./entry-view.js";
import { retryScript } from "./generated/lua-scripts.js";
import { runLuaScript } from "./lua-script.js";
import { replyArray, replyNumber, replyString, UnexpectedReplyError } from "./reply.js";

/** What `retry` takes. */
export interface RetryRequest {
  /** Why the delivery failed (for the caller's logs; the FAILED record keeps the final one). */
  error: string;
}

/** What `retry` answers. */
export type RetryResult =
  | { outcome: "scheduled"; dueAt: number; delayMs: number; attempts: number }
  /** Attempts or the time budget ran out; the entry stays leased, so the caller then calls `fail`. */
  | { outcome: "exhausted"; attempts: number }
  | { outcome: "lease_lost" };

/**
 * Puts a leased entry into the shard's retry set, due after an exponential
 * backoff with jitter; `promoteDueRetries` moves it back to the head of its
 * queue once due. Answers `exhausted` (leaving the lease in place) when this
 * failure uses up `retry.maxAttempts` or the retry would fall outside
 * `retry.maxElapsedMs` from `acceptedAt`.
 */
export async function retry(
  context: BufferContext,
  entry: Pick<LeasedEntry, "orgId" | "envId" | "runId" | "leaseToken" | "attempts">,
  _request: RetryRequest,
): Promise<RetryResult> {
  const { keys, runField, member } = entryKeys(context.keys, entry);
  const { retry: options, random } = context.options;
  const delayMs = retryDelayMs(options, entry.attempts + 1, random);
  const script = retryScript.name;
  const raw = await runLuaScript(
    context.redis,
    retryScript,
    [keys.entries, keys.leases, keys.retries],
    [runField, member, entry.leaseToken, delayMs, options.maxAttempts, options.maxElapsedMs ?? 0],
  );
  const reply = replyArray(script, raw);
  const outcome = replyString(script, reply[0]);
  switch (outcome) {
    case "scheduled":
      return {
        outcome,
        dueAt: replyNumber(script, reply[1]),
        delayMs,
        attempts: replyNumber(script, reply[2]),
      };
    case "exhausted":
      return { outcome, attempts: replyNumber(script, reply[1]) };
    case "lease_lost":
      return { outcome };
    default:
      throw new UnexpectedReplyError(script, raw);
  }
}
