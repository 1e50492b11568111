/**
 * Narrowing helpers for raw script replies: each script wrapper parses its
 * reply with these instead of casting. A reply of the wrong shape is a bug
 * (a wrapper and its script disagree), so it throws.
 */

/** Thrown when a script's reply does not have the documented shape. */
export class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`unexpected reply from ${script}: ${JSON.stringify(reply)}`);
    this.name = "UnexpectedReplyError";
  }
}

export function replyArray(script: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new UnexpectedReplyError(script, reply);
  return reply;
}

export function replyString(script: string, reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  throw new UnexpectedReplyError(script, reply);
}

export function replyOptionalString(script: string, reply: unknown): string | undefined {
  return reply === null || reply === undefined ? undefined : replyString(script, reply);
}

export function replyNumber(script: string, reply: unknown): number {
  const value = typeof reply === "number" ? reply : typeof reply === "string" ? Number(reply) : Number.NaN;
  if (!Number.isFinite(value)) throw new UnexpectedReplyError(script, reply);
  return value;
}

export function replyOptionalNumber(script: string, reply: unknown): number | undefined {
  return reply === null || reply === undefined ? undefined : replyNumber(script, reply);
}

/**
 * Reads a tagged reply `{tag, ...fields}`: the tag, plus readers for the
 * fields by index, for wrappers that switch on the tag.
 */
export function taggedReply(script: string, raw: unknown) {
  const reply = replyArray(script, raw);
  return {
    tag: replyString(script, reply[0]),
    number: (index: number) => replyNumber(script, reply[index]),
    string: (index: number) => replyString(script, reply[index]),
    unexpected: () => new UnexpectedReplyError(script, raw),
  };
}
