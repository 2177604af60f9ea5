/** Least-squares growth of `values` over their span: slope × (last time − first time). */
export function growthOver(samples: readonly { at: number; value: number }[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanAt = samples.reduce((sum, s) => sum + s.at, 0) / n;
  const meanValue = samples.reduce((sum, s) => sum + s.value, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const { at, value } of samples) {
    covariance += (at - meanAt) * (value - meanValue);
    variance += (at - meanAt) ** 2;
  }
  if (variance === 0) return 0;
  return (covariance / variance) * (samples[n - 1].at - samples[0].at);
}

/** The samples of the second half of the run (by time). */
export function secondHalf<T extends { at: number }>(samples: readonly T[]): T[] {
  if (samples.length === 0) return [];
  const middle = (samples[0].at + samples[samples.length - 1].at) / 2;
  return samples.filter((s) => s.at >= middle);
}
