/**
 * Latency summaries shared by the load tools' parsers: the three percentiles the proxy bench
 * reports, in milliseconds.
 */

/** p50, p90 and p99 latency, ms. */
export interface Percentiles {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentile (`q` in (0, 1]) of samples sorted ascending. */
export function nearestRank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('nearestRank: no samples');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** p50/p90/p99 of latencies given in microseconds. */
export function percentilesOfMicros(micros: readonly number[]): Percentiles {
  const sorted = [...micros].sort((a, b) => a - b);
  return {
    p50Ms: nearestRank(sorted, 0.5) / 1000,
    p90Ms: nearestRank(sorted, 0.9) / 1000,
    p99Ms: nearestRank(sorted, 0.99) / 1000,
  };
}
