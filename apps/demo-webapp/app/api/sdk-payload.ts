import superjson from "superjson";
import { ApiError } from "./api-error";

/** JSON-safe copies of what superjson can carry and JSON cannot. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/**
 * Decodes a trigger.dev packet (`payload` or `metadata` with its `…Type`) into
 * the JSON value the demo stores: `application/super+json` through superjson
 * (a `Date` is stored as its ISO string, as trigger.dev's run API answers it),
 * `application/json` as JSON text, `text/plain` as the string, no type as the
 * value sent (the demo's own plain-JSON form). Stored decoded, a run reads back
 * the same from the database and from the buffer.
 */
export function decodePacket(value: unknown, type: string | undefined, field: string): unknown {
  if (type === undefined || value === undefined) return value;
  if (type === "text/plain") return value;
  if (typeof value !== "string") {
    throw new ApiError(422, `${field}: a ${type} packet must be a string`, "INVALID_OPTIONS");
  }
  try {
    if (type === "application/json") return JSON.parse(value);
    if (type === "application/super+json") {
      return JSON.parse(JSON.stringify(superjson.parse(value), jsonSafe) ?? "null");
    }
  } catch {
    throw new ApiError(400, `${field} is not valid ${type}`, "MALFORMED_JSON");
  }
  // `application/store` points into trigger.dev's object store, which the demo does not have.
  throw new ApiError(422, `${field}: packet type ${type} is not supported`, "UNSUPPORTED_PACKET_TYPE");
}
