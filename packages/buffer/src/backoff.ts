import { backoffDelayMs } from "@mollifier/core";
import type { ResolvedBufferOptions } from "./buffer-options.js";

/**
 * The delay before retry number `attempt` (1 for the first retry), an integer
 * in `[0, maxDelayMs]`: the core backoff (`@mollifier/core`'s
 * `backoffDelayMs`) from `baseDelayMs`, doubling per attempt up to
 * `maxDelayMs`, less a random share of at most `jitter` (`"full"` is 1).
 */
export function retryDelayMs(
  retry: ResolvedBufferOptions["retry"],
  attempt: number,
  random: () => number,
): number {
  return backoffDelayMs(
    attempt - 1,
    {
      initialDelayMs: retry.baseDelayMs,
      maxDelayMs: retry.maxDelayMs,
      jitter: retry.jitter === "full" ? 1 : retry.jitter,
    },
    random,
  );
}
