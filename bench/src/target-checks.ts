import type { TargetCheck } from "./bench-case.js";
import { formatNumber, formatRatio } from "./format.js";

/** `ours / peer ≥ minimum` (higher is better, e.g. throughput). */
export function ratioAtLeast(
  label: string,
  ours: number,
  peer: number,
  minimum: number,
  unit: string,
): TargetCheck {
  const ratio = ours / peer;
  return {
    label,
    target: `≥ ${formatRatio(minimum)}`,
    measured: `${formatRatio(ratio)} (${formatNumber(ours)} vs ${formatNumber(peer)} ${unit})`,
    pass: ratio >= minimum,
  };
}

/** `ours / peer ≤ maximum` (lower is better, e.g. latency or memory). */
export function ratioAtMost(
  label: string,
  ours: number,
  peer: number,
  maximum: number,
  unit: string,
): TargetCheck {
  const ratio = ours / peer;
  return {
    label,
    target: `≤ ${formatRatio(maximum)}`,
    measured: `${formatRatio(ratio)} (${formatNumber(ours)} vs ${formatNumber(peer)} ${unit})`,
    pass: ratio <= maximum,
  };
}
