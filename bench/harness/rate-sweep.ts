/** One rate of a sweep: the offered rate, the latency percentile judged, and whether it kept up. */
export interface SweepStep {
  /** Offered meal logs per second. */
  rate: number;
  p99: number;
  /** Completions reached at least `KEEP_UP_SHARE` of the rate, and nothing was lost. */
  keptUp: boolean;
}

/** A step kept up when it completed at least this share of the offered rate. */
export const KEEP_UP_SHARE = 0.95;

/** Whether a step kept up with its offered rate: nearly all completed, none lost. */
export function keptUp(rate: number, completionsPerSecond: number, lost: number): boolean {
  return lost === 0 && completionsPerSecond >= KEEP_UP_SHARE * rate;
}

/**
 * The highest rate up to which p99 stays under `thresholdMs`: going up from the lowest rate
 * swept, the last one before the first that kept up no longer or reached the threshold; 0 when
 * the lowest already fails. A rate that passes above a failing one does not count, as the
 * pipeline was not holding its latency on the way there.
 */
export function highestRateUnder(steps: readonly SweepStep[], thresholdMs: number): number {
  let highest = 0;
  for (const step of [...steps].sort((a, b) => a.rate - b.rate)) {
    if (!step.keptUp || !(step.p99 < thresholdMs)) break;
    highest = step.rate;
  }
  return highest;
}

/**
 * Whether a sweep should stop before its next rate: a pipeline far behind (p99 over
 * `giveUpMs`) only falls further behind at higher rates, and each would cost its grace period.
 */
export function sweepGivesUp(step: SweepStep, giveUpMs: number): boolean {
  return !(step.p99 <= giveUpMs);
}

/** Of the rates stepped through, the one nearest `wanted` (the lower of two as near). */
export function nearestRate(rates: readonly number[], wanted: number): number {
  let nearest = Number.NaN;
  for (const rate of [...rates].sort((a, b) => a - b)) {
    if (Number.isNaN(nearest) || Math.abs(rate - wanted) < Math.abs(nearest - wanted))
      nearest = rate;
  }
  return nearest;
}
