import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { IdempotencyRef } from "./buffer-port";

const CLAIM = `
local value = redis.call('GET', KEYS[1])
if not value then
  redis.call('SET', KEYS[1], 'pending:' .. ARGV[1], 'PX', ARGV[2])
  return {'claimed'}
end
if string.sub(value, 1, 4) == 'run:' then return {'resolved', string.sub(value, 5)} end
return {'pending', tostring(redis.call('PTTL', KEYS[1]))}
`;
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= 'pending:' .. ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], 'run:' .. ARGV[2], 'PX', ARGV[3]) end
return 1
`;

export type ClaimResult =
  | { outcome: "claimed"; publish: (runId: string) => Promise<void>; release: () => Promise<void> }
  | { outcome: "resolved"; runId: string }
  | { outcome: "timed_out" };

/**
 * Stand-in for `@mollifier/read-fallback`'s claim protocol until it lands:
 * the first trigger with a key owns it (token), the others wait with bounded
 * polling for the owner's run id.
 */
export function createIdempotencyClaims(options: {
  redis: Redis;
  prefix?: string;
  ttlMs?: number;
  waitMs?: number;
  pollMs?: number;
}) {
  const prefix = options.prefix ?? "mollifier-demo:claim";
  const ttlMs = options.ttlMs ?? 10_000;
  const waitMs = options.waitMs ?? 5_000;
  const pollMs = options.pollMs ?? 25;

  const keyOf = (ref: IdempotencyRef) =>
    `${prefix}:${JSON.stringify([ref.orgId, ref.envId, ref.taskId, ref.idempotencyKey])}`;

  /** Forgets a published claim, so a reset key is free at once. */
  async function resetResolved(ref: IdempotencyRef): Promise<void> {
    await options.redis.eval(
      "if string.sub(redis.call('GET', KEYS[1]) or '', 1, 4) == 'run:' then redis.call('DEL', KEYS[1]) end",
      1,
      keyOf(ref),
    );
  }

  async function claimOrAwait(ref: IdempotencyRef): Promise<ClaimResult> {
    const key = keyOf(ref);
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const reply = await options.redis.eval(CLAIM, 1, key, token, String(ttlMs));
      const [outcome, value] = Array.isArray(reply) ? reply.map(String) : [];
      if (outcome === "claimed") {
        const finish = async (runId: string) => {
          await options.redis.eval(PUBLISH, 1, key, token, runId, String(ttlMs));
        };
        return { outcome, publish: finish, release: () => finish("") };
      }
      if (outcome === "resolved" && value) return { outcome, runId: value };
      if (Date.now() >= deadline) return { outcome: "timed_out" };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  return { claimOrAwait, resetResolved };
}
