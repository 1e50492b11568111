import type { GateDecision } from "@mollifier/gate";
import type { MollifierMode } from "../config.server";

/**
 * Where a trigger's run is written: the database inside the request, the
 * buffer only (the drainer writes it later), or the database first and then
 * the buffer (`dual-write`: the drainer finds the row and only verifies it).
 */
export type TriggerDestination = "database" | "buffer" | "database_then_buffer";

/**
 * Whether a mode's trigger path touches Redis at all (idempotency claims, the
 * gate, the buffer). `off` sends no Redis command: the database alone answers.
 */
export function modeUsesRedis(mode: MollifierMode): boolean {
  return mode !== "off";
}

/**
 * The one routing rule: only a `mollify` decision leaves the database path,
 * to the buffer in `mollify` mode and to both in `dual-write`. `decision` is
 * `undefined` when the gate was not consulted (mode `off`).
 */
export function destinationFor(mode: MollifierMode, decision: GateDecision | undefined): TriggerDestination {
  if (decision?.action !== "mollify") return "database";
  if (mode === "mollify") return "buffer";
  if (mode === "dual-write") return "database_then_buffer";
  // `shadow` never enrolls an org, so its gate answers `shadow_log`; stay on the database regardless.
  return "database";
}
