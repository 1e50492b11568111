/** Number formatting shared by the Markdown report and the checks. */

/** `23100.4` → `23,100`; small values keep up to two decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Ratio with two decimals and an `x`. */
export function formatRatio(value: number): string {
  return `${Number.isFinite(value) ? value.toFixed(2) : String(value)}x`;
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value < 0.1) return `${(value * 1000).toFixed(1)} µs`;
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}

/** Bytes as B / KiB / MiB. */
export function formatBytes(value: number): string {
  if (Math.abs(value) < 1024) return `${value.toFixed(0)} B`;
  if (Math.abs(value) < 1024 * 1024) return `${(value / 1024).toFixed(2)} KiB`;
  return `${(value / 1024 / 1024).toFixed(2)} MiB`;
}
