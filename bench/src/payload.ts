/** Size of the payload most cases buffer: 1 KiB of JSON. */
export const PAYLOAD_BYTES = 1024;

/**
 * A JSON object whose serialised form is exactly `bytes` long, shaped like a
 * trigger payload (a few fields and one longer text), so neither side gets a
 * compression-friendly shortcut.
 */
export function jsonPayload(bytes = PAYLOAD_BYTES): Record<string, unknown> {
  const base = { customerId: "cus_8f2k1l", event: "invoice.paid", amount: 4200, note: "" };
  const overhead = JSON.stringify(base).length;
  const filler = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let note = "";
  while (note.length < bytes - overhead) note += filler;
  return { ...base, note: note.slice(0, bytes - overhead) };
}
