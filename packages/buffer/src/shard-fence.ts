import { BufferReshardError } from "./errors.js";

/** Suffix of a shard's fence key, `{<tag>}:fence` (see `lua/includes/shard-fence.lua`). */
const FENCE_SUFFIX = ":fence";
const RESHARD_REPLY = /MOLLIFIER_RESHARD (moving|moved) (\S+)/;

/** The fence key of the shard whose hash tag is `tag` (`{prefix:i:k}`). */
export function fenceKeyOfTag(tag: string): string {
  return `${tag}${FENCE_SUFFIX}`;
}

/**
 * `keys` followed by the fence key of every shard they belong to, in order of first use. A
 * buffer key starts with its shard's hash tag, so the tag is the text up to the first `}`; a
 * call's keys usually share one tag, checked by comparing with the previous one.
 */
export function withFenceKeys(keys: readonly string[]): string[] {
  const fenced = keys.slice();
  let tags: string[] | undefined;
  let first = "";
  for (const key of keys) {
    // The common call: every key carries the first key's tag, checked without building a string.
    if (first !== "" && key.startsWith(first)) continue;
    const end = key.indexOf("}");
    if (end < 0) continue;
    const tag = key.slice(0, end + 1);
    if (first === "") {
      first = tag;
    } else {
      tags ??= [first];
      if (tags.includes(tag)) continue;
      tags.push(tag);
    }
    fenced.push(fenceKeyOfTag(tag));
  }
  return fenced;
}

/** What a fence refusal says: the shard is being moved, or has moved, by a reshard `from>to`. */
export interface FenceRefusal {
  readonly state: "moving" | "moved";
  readonly reshard: string;
}

/** The fence refusal in `error` (however the client wrapped it), or undefined for any other error. */
export function fenceRefusal(error: unknown): FenceRefusal | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof current !== "object" || current === null) return undefined;
    const { message, cause, lastNodeError } = current as {
      message?: unknown;
      cause?: unknown;
      lastNodeError?: unknown;
    };
    const match = typeof message === "string" ? RESHARD_REPLY.exec(message) : null;
    if (match) return { state: match[1] === "moved" ? "moved" : "moving", reshard: match[2] ?? "" };
    current = cause ?? lastNodeError;
  }
  return undefined;
}

/** True for the error a call gets when its shard moved to the new layout: re-route and retry. */
export function isShardMoved(error: unknown): boolean {
  return BufferReshardError.isInstance(error) && error.code === "SHARD_MOVED";
}
