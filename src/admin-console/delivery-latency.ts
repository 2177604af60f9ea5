/** Notification delivery latency over one interval, read off a cumulative histogram. */
export interface LatencySummary {
  /** Notifications written to a socket in the interval. */
  deliveries: number;
  /**
   * Upper bounds of the buckets holding the median and the 95th percentile (ms), so "≤ 20 ms";
   * null with no deliveries, or when the value lies beyond the largest bound.
   */
  p50Ms: number | null;
  p95Ms: number | null;
}

/**
 * What happened between two readings of a cumulative histogram (Prometheus buckets: each count
 * includes every smaller bucket's): how many observations and where their percentiles fell.
 * A reset (a count going down) is read as a start from zero.
 */
export function latencyBetween(
  bounds: readonly number[],
  before: readonly number[],
  after: readonly number[],
  total: { before: number; after: number },
): LatencySummary {
  const reset = total.after < total.before;
  const deliveries = reset ? total.after : total.after - total.before;
  const inInterval = after.map((count, i) => (reset ? count : count - (before[i] ?? 0)));
  const percentile = (q: number): number | null => {
    if (deliveries === 0) return null;
    const rank = q * deliveries;
    const index = inInterval.findIndex((count) => count >= rank);
    return index === -1 ? null : bounds[index];
  };
  return { deliveries, p50Ms: percentile(0.5), p95Ms: percentile(0.95) };
}
