/** How long something took, as people read it: the verdicts' and the admin page's durations. */
export function duration(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1_000) return `${Math.round(value)} ms`;
  if (value < 10_000) return `${trim((value / 1_000).toFixed(1))} s`;
  if (value < 60_000) return `${Math.round(value / 1_000)} s`;
  if (value < 3_600_000) return `${Math.round(value / 60_000)} min`;
  if (value < 172_800_000) return `${trim((value / 3_600_000).toFixed(1))} h`;
  return `${Math.round(value / 86_400_000)} d`;
}

function trim(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}
