/** The bench's statistics over samples (times in ms, mostly); the samples are not modified. */

/** The nearest-rank percentile `p` (0 < p <= 1) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] ?? NaN) : s.length ? ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2 : NaN;
}
