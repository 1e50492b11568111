import type { ResolvedBufferOptions } from "./buffer-options.js";

/**
 * The delay before retry number `attempt` (1 for the first retry):
 * `min(maxDelayMs, baseDelayMs · 2^(attempt-1))` with jitter, an integer in
 * `[0, maxDelayMs]`.
 */
export function retryDelayMs(
  retry: ResolvedBufferOptions["retry"],
  attempt: number,
  random: () => number,
): number {
  const exponent = Math.max(0, attempt - 1);
  const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.min(exponent, 52));
  const jittered =
    retry.jitter === "full" ? backoff * random() : backoff * (1 - retry.jitter + 2 * retry.jitter * random());
  return Math.max(0, Math.min(retry.maxDelayMs, Math.round(jittered)));
}
