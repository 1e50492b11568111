/** What one trigger answer was, each answer counted once. */
export type AnswerKind =
  /** Written to the database inside the request. */
  | "created"
  /** Taken by the buffer (the answer carries `notice`), and not an existing run. */
  | "mollified"
  /** An existing run answered its idempotency key (`isCached`), wherever that run is. */
  | "idempotent"
  | "failed";

/**
 * Classifies an answer so mollified and idempotent hits never overlap: an
 * idempotent hit on a run that is still buffered carries the buffer's
 * `notice` too, and counts only as an idempotent hit.
 */
export function answerKind(
  status: number,
  answer: { id?: unknown; notice?: unknown; isCached?: unknown },
): AnswerKind {
  if (status < 200 || status >= 300 || typeof answer.id !== "string") return "failed";
  if (answer.isCached === true) return "idempotent";
  if (typeof answer.notice === "string") return "mollified";
  return "created";
}
