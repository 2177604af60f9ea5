import { LatencyHistogram } from '../harness/latency-histogram';
import type { CollectResult, PingResult } from '../load/load-messages';
import type { LoadPool } from '../load/load-pool';

/** Sums the workers' ping results into one. */
export function mergePings(results: PingResult[]): {
  completed: number;
  elapsedMs: number;
  rtt: LatencyHistogram;
} {
  const rtt = new LatencyHistogram();
  for (const result of results) rtt.merge(result.rtt);
  return {
    completed: results.reduce((sum, r) => sum + r.completed, 0),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    rtt,
  };
}

export interface MergedCollect {
  closesByCode: Record<string, number>;
  wronglySwept: number;
  silentSwept: number;
  /** Epoch ms of the first and last 4408 close any worker saw; NaN when none. */
  firstStaleCloseAt: number;
  lastStaleCloseAt: number;
  pingsSent: number;
  pingsAnswered: number;
  latency: LatencyHistogram;
  received: string[];
  duplicates: number;
}

export function mergeCollects(results: CollectResult[]): MergedCollect {
  const merged: MergedCollect = {
    closesByCode: {},
    wronglySwept: 0,
    silentSwept: 0,
    firstStaleCloseAt: Number.NaN,
    lastStaleCloseAt: Number.NaN,
    pingsSent: 0,
    pingsAnswered: 0,
    latency: new LatencyHistogram(),
    received: [],
    duplicates: 0,
  };
  for (const result of results) {
    for (const [code, count] of Object.entries(result.closesByCode)) {
      merged.closesByCode[code] = (merged.closesByCode[code] ?? 0) + count;
    }
    merged.wronglySwept += result.wronglySwept;
    merged.silentSwept += result.silentSwept;
    if (result.staleClosedAt) {
      const [first, last] = result.staleClosedAt;
      const none = Number.isNaN(merged.firstStaleCloseAt);
      merged.firstStaleCloseAt = none ? first : Math.min(first, merged.firstStaleCloseAt);
      merged.lastStaleCloseAt = none ? last : Math.max(last, merged.lastStaleCloseAt);
    }
    merged.pingsSent += result.pingsSent;
    merged.pingsAnswered += result.pingsAnswered;
    merged.latency.merge(result.notifications.latency);
    for (const id of result.notifications.received) merged.received.push(id);
    merged.duplicates += result.notifications.duplicates;
  }
  return merged;
}

/** Collects (and resets) the workers' notification counters once `expected` arrived or after `graceMs`. */
export async function collectUntilDelivered(
  pool: LoadPool,
  expected: number,
  graceMs: number,
): Promise<MergedCollect> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const peek = mergeCollects((await pool.all({ cmd: 'collect' }, 30_000)) as CollectResult[]);
    if (new Set(peek.received).size >= expected || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return mergeCollects(
    (await pool.all({ cmd: 'collect', reset: true }, 30_000)) as CollectResult[],
  );
}
