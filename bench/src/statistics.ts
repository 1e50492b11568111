/** Small, dependency-free statistics used by every case. */

/** Median of `values` (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  const lower = sorted[middle - 1] ?? Number.NaN;
  return (lower + upper) / 2;
}

/**
 * Nearest-rank percentile (`p` in 0…100) of values that are already sorted
 * ascending. Nearest rank never invents a value that was not measured.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index] ?? Number.NaN;
}

/** p50 and p99 of a set of per-operation timings (ms). */
export function latencySummary(timingsMs: Float64Array): { p50: number; p99: number } {
  const sorted = Float64Array.from(timingsMs).sort();
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
}

/**
 * Jain's fairness index of allocations `x`: `(Σx)² / (n · Σx²)`. 1 when every
 * party got the same, `1/n` when one party got everything.
 */
export function jainIndex(allocations: readonly number[]): number {
  if (allocations.length === 0) return Number.NaN;
  let sum = 0;
  let sumOfSquares = 0;
  for (const x of allocations) {
    sum += x;
    sumOfSquares += x * x;
  }
  if (sumOfSquares === 0) return Number.NaN;
  return (sum * sum) / (allocations.length * sumOfSquares);
}
