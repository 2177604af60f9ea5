/**
 * A fixed-size log-linear histogram of latencies (microsecond input, about 3 % relative precision),
 * so load workers can record millions of samples and ship them to the orchestrator as a small
 * array that merges by addition.
 */
const SUB_BUCKETS = 64;
const MAGNITUDES = 40;

export type HistogramCounts = number[];

export class LatencyHistogram {
  readonly counts: HistogramCounts;
  count = 0;
  max = 0;

  constructor(counts?: HistogramCounts) {
    this.counts = counts ? [...counts] : new Array<number>(SUB_BUCKETS * MAGNITUDES).fill(0);
    for (const c of this.counts) this.count += c;
  }

  recordMicros(value: number): void {
    const v = Math.max(1, Math.round(value));
    this.counts[bucketOf(v)]++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  recordMillis(value: number): void {
    this.recordMicros(value * 1000);
  }

  merge(other: { counts: HistogramCounts; max: number }): void {
    for (let i = 0; i < this.counts.length; i++) {
      this.counts[i] += other.counts[i];
      this.count += other.counts[i];
    }
    this.max = Math.max(this.max, other.max);
  }

  /** Upper bound of the bucket holding the p-th percentile, in milliseconds; NaN when empty. */
  percentileMillis(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBoundOf(i), this.max) / 1000;
    }
    return this.max / 1000;
  }

  toJSON(): { counts: HistogramCounts; max: number } {
    return { counts: this.counts, max: this.max };
  }
}

function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const magnitude = Math.floor(Math.log2(value / SUB_BUCKETS)) + 1;
  const sub = Math.floor(value / 2 ** magnitude);
  return Math.min(magnitude * SUB_BUCKETS + (sub - SUB_BUCKETS / 2), SUB_BUCKETS * MAGNITUDES - 1);
}

function upperBoundOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const magnitude = Math.floor(bucket / SUB_BUCKETS);
  const sub = (bucket % SUB_BUCKETS) + SUB_BUCKETS / 2;
  return (sub + 1) * 2 ** magnitude - 1;
}
