// How a caller-supplied id (org, env, run, task, idempotency key) becomes one segment of a key,
// and back, and the hash that places an org in a shard. Everything here is pure; `keys.ts`
// builds the keys from it.

/** Longest accepted id, in bytes of UTF-8, before encoding. */
export const MAX_SEGMENT_BYTES = 512;

const SAFE_BYTE = /^[A-Za-z0-9_.-]$/;
// Ids made only of safe bytes are their own encoding; checking that with one
// regex keeps the accept path from walking them byte by byte.
const SAFE_SEGMENT = /^[A-Za-z0-9_.-]+$/;
// With the `u` flag a surrogate pair is one code point, so this matches only a
// lone surrogate: the test `String.prototype.isWellFormed` makes (absent from
// the ES2023 lib this package compiles against).
const LONE_SURROGATE = /\p{Surrogate}/u;
const encoder = new TextEncoder();

/** Thrown (as a {@link TypeError}) for an id that cannot be used in a key. */
export class InvalidKeySegmentError extends TypeError {
  readonly code = "INVALID_KEY_SEGMENT";
  constructor(
    readonly segmentName: string,
    reason: string,
  ) {
    super(`${segmentName} ${reason}`);
    this.name = "InvalidKeySegmentError";
  }
}

/**
 * Encodes a caller-supplied id for use inside a key: bytes outside
 * `[A-Za-z0-9_.-]` become `%XX` (UTF-8). Injective, so two ids never share a
 * key, and the result holds no `:`, `{` or `}`, so it cannot split a key or
 * move it to another slot. An id that is not well-formed UTF-16 (a lone
 * surrogate) is refused: UTF-8 has no bytes for it.
 */
export function encodeSegment(value: string, segmentName = "id"): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidKeySegmentError(segmentName, "must be a non-empty string");
  }
  if (value.length <= MAX_SEGMENT_BYTES && SAFE_SEGMENT.test(value)) return value;
  // UTF-8 encodes every lone surrogate as U+FFFD, so "\ud800" and "\udc00"
  // would share one key (and decode to neither).
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidKeySegmentError(segmentName, "must be well-formed UTF-16 (it holds a lone surrogate)");
  }
  const bytes = encoder.encode(value);
  if (bytes.length > MAX_SEGMENT_BYTES) {
    throw new InvalidKeySegmentError(segmentName, `must be at most ${MAX_SEGMENT_BYTES} bytes`);
  }
  let encoded = "";
  let plain = true;
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && SAFE_BYTE.test(char)) {
      encoded += char;
    } else {
      plain = false;
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return plain ? value : encoded;
}

/** Inverse of {@link encodeSegment}. */
export function decodeSegment(encoded: string): string {
  // Only encoded bytes carry a `%`; a plain id (the common case) comes back as it is.
  return encoded.includes("%") ? decodeURIComponent(encoded) : encoded;
}

/** FNV-1a, 32 bit, over the UTF-8 bytes of `value`. */
export function fnv1a32(value: string): number {
  let hash = 0x811c9dc5;
  if (SAFE_SEGMENT.test(value)) {
    // ASCII: each char code is its UTF-8 byte.
    for (let index = 0; index < value.length; index++) {
      hash ^= value.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash >>> 0;
  }
  for (const byte of encoder.encode(value)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
