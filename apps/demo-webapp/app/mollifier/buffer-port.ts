import type { MollifierBuffer } from "@mollifier/buffer";

export type {
  AcceptInput,
  AcceptResult,
  BufferEntryView,
  EntryMutations,
  LeasedEntry,
  TriggerSnapshot,
} from "@mollifier/buffer";

/** The part of `MollifierBuffer` the trigger and run services use (tests may pass a wrapped one). */
export type AppBuffer = Pick<
  MollifierBuffer,
  | "accept"
  | "getEntry"
  | "listEntries"
  | "depth"
  | "stats"
  | "cancel"
  | "addTags"
  | "setMetadata"
  | "lookupIdempotency"
  | "resetIdempotency"
>;
