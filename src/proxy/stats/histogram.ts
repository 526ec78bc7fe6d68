/**
 * Histogram arithmetic shared by the store and the renderers: Envoy's default bucket bounds,
 * per-bucket counts, and quantiles estimated from them. Envoy keeps log-linear histograms
 * (circllhist) and reads buckets and quantiles off them; we keep exact counts per default bucket
 * (so Prometheus buckets are exact) plus min and max, and interpolate quantiles within a bucket.
 */

/**
 * Envoy's default histogram bucket upper bounds, in the histogram's unit
 * (`HistogramSettingsImpl::defaultBuckets`, source/common/stats/histogram_impl.cc).
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

/** The quantiles Envoy's `/stats` prints for each histogram, in percent (`HistogramStatisticsImpl::supportedQuantiles`). */
export const SUPPORTED_PERCENTILES: readonly number[] = Object.freeze([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);

/** Observations of one histogram over some span: counts per bucket (not cumulative), count, sum, min and max. */
export interface HistogramSnapshot {
  /** `counts[i]` observations fell in `(DEFAULT_BUCKETS[i-1], DEFAULT_BUCKETS[i]]`; the last slot is above every bound. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sum: number;
  /** `Infinity` and `-Infinity` while empty. */
  readonly min: number;
  readonly max: number;
}

/** The slot of `value` in `HistogramSnapshot.counts`. */
export function bucketIndex(value: number): number {
  let i = 0;
  // Prometheus buckets are "less than or equal": a value on a bound belongs to that bound's bucket.
  while (i < DEFAULT_BUCKETS.length && value > (DEFAULT_BUCKETS[i] as number)) i++;
  return i;
}

/** Mutable per-bucket counts; `add` is the hot path (a few stores). */
export class BucketCounts implements HistogramSnapshot {
  readonly counts: number[] = new Array<number>(DEFAULT_BUCKETS.length + 1).fill(0);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Counts `value`, whose slot is `index` (`bucketIndex(value)`, computed once by callers that count it twice). */
  add(value: number, index = bucketIndex(value)): void {
    (this.counts[index] as number)++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

/** The observations of several histograms together. */
export function mergeSnapshots(snapshots: readonly HistogramSnapshot[]): HistogramSnapshot {
  if (snapshots.length === 1) return snapshots[0] as HistogramSnapshot;
  const out = new BucketCounts();
  for (const s of snapshots) {
    s.counts.forEach((n, i) => (out.counts[i] = (out.counts[i] as number) + n));
    out.count += s.count;
    out.sum += s.sum;
    out.min = Math.min(out.min, s.min);
    out.max = Math.max(out.max, s.max);
  }
  return out;
}

/** Cumulative counts per bound (`le`), as Prometheus prints them; the `+Inf` bucket is `count`. */
export function cumulativeBuckets(snapshot: HistogramSnapshot): number[] {
  const out: number[] = [];
  let running = 0;
  for (let i = 0; i < DEFAULT_BUCKETS.length; i++) {
    running += snapshot.counts[i] as number;
    out.push(running);
  }
  return out;
}

/**
 * The `q` quantile (0..1), interpolated linearly inside the bucket holding its rank, with the
 * bucket narrowed to the observed min and max (so P0 is the min and P100 the max). NaN when empty,
 * as Envoy reports a histogram with no values.
 */
export function quantile(snapshot: HistogramSnapshot, q: number): number {
  if (snapshot.count === 0) return NaN;
  if (q <= 0) return snapshot.min;
  if (q >= 1) return snapshot.max;
  const rank = q * snapshot.count;
  let below = 0;
  for (let i = 0; i < snapshot.counts.length; i++) {
    const n = snapshot.counts[i] as number;
    if (n === 0 || below + n < rank) {
      below += n;
      continue;
    }
    const lower = Math.max(i === 0 ? 0 : (DEFAULT_BUCKETS[i - 1] as number), snapshot.min);
    const upper = Math.min(i < DEFAULT_BUCKETS.length ? (DEFAULT_BUCKETS[i] as number) : snapshot.max, snapshot.max);
    return lower + ((upper - lower) * (rank - below)) / n;
  }
  return snapshot.max;
}
