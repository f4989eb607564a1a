/**
 * The nearest-rank percentile: the smallest value such that at least p% of the values are less
 * than or equal to it (rank ⌈p/100 · n⌉ in ascending order). Always one of the values, never an
 * interpolation: "p95 = 12 s" means some application really took 12 s. Null for no values.
 */
export function nearestRankPercentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1] ?? null;
}
