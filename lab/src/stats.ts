export interface Stats {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly mean: number;
}

/** Rounded to 0.1 ms: the guest's clocks are read through exec under TCG, finer is noise. */
export const round1 = (value: number): number => Math.round(value * 10) / 10;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function stats(values: readonly number[]): Stats | null {
  const middle = median(values);
  if (middle === null) return null;
  return {
    n: values.length,
    min: round1(Math.min(...values)),
    median: round1(middle),
    max: round1(Math.max(...values)),
    mean: round1(values.reduce((sum, value) => sum + value, 0) / values.length),
  };
}
