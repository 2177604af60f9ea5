import { Client } from 'pg';
import { check, metricOf, WorkloadReport } from '../harness/report';
import { measured, withLoad, withServer } from '../harness/server-session';
import type { CollectResult, HeartbeatResult } from '../load/load-messages';
import type { GcPause } from '../probe/probe-messages';
import { openSessions } from './connect';
import { mergeCollects } from './load-results';
import { sessionsFor, Workload } from './workload';

/** One session in ten goes silent. */
const SILENT_EVERY = 10;
const TARGET_LOOP_BLOCK_MS = 20;
/** How often the event-loop delay is sampled, to find the samples that hold a sweep. */
const LOOP_SAMPLE_MS = 100;

/** One reading of the event-loop delay: its maximum between `from` and `at` (epoch ms). */
interface LoopSample {
  from: number;
  at: number;
  maxMs: number;
}

interface SweepTiming {
  staleAfterMs: number;
  sweepIntervalMs: number;
  pingIntervalMs: number;
}

const FULL: SweepTiming = { staleAfterMs: 30_000, sweepIntervalMs: 2_000, pingIntervalMs: 10_000 };
const QUICK: SweepTiming = { staleAfterMs: 2_000, sweepIntervalMs: 400, pingIntervalMs: 700 };

/**
 * W6 sweep cost: N sessions, of which every tenth stops sending anything; the others ping well
 * inside PRESENCE_STALE_AFTER_MS. Measures how long the sweeps take as clients see the 4408s,
 * the event-loop delay while they run (monitorEventLoopDelay in the probe), and the audit rows.
 */
export const w6Sweep: Workload = {
  name: 'w6',
  async run(context) {
    const sessions = sessionsFor(context, 19_000, 300);
    const timing = context.options.quick ? QUICK : FULL;
    const silent = Math.ceil(sessions / SILENT_EVERY);
    // Long enough for every silent session to be swept, with a margin of two sweeps.
    const durationMs = timing.staleAfterMs + 4 * timing.sweepIntervalMs + timing.pingIntervalMs;
    context.progress.update(`W6 sweep: ${sessions} sessions, ${silent} go silent`);
    const env = {
      PRESENCE_STALE_AFTER_MS: String(timing.staleAfterMs),
      PRESENCE_SWEEP_INTERVAL_MS: String(timing.sweepIntervalMs),
      // Live sessions ping on their own; the server's heartbeat stays out of the picture.
      WS_HEARTBEAT_INTERVAL_MS: '3600000',
    };
    const result = await withServer(context, 'mealpulse', env, (server, databaseUrl) =>
      withLoad(sessions, async (pool) => {
        await openSessions(pool, server, { autoPong: false });
        const samples: LoopSample[] = [];
        await server.startGcPauses();
        const run = await measured(context, server, 'w6-sweep', async () => {
          const heartbeat = pool.all(
            {
              cmd: 'heartbeat',
              intervalMs: timing.pingIntervalMs,
              durationMs,
              silentEvery: SILENT_EVERY,
            },
            durationMs + 60_000,
          ) as Promise<HeartbeatResult[]>;
          let done = false;
          void heartbeat.finally(() => (done = true));
          while (!done) {
            const from = Date.now();
            await server.resetLoopDelay();
            await new Promise((resolve) => setTimeout(resolve, LOOP_SAMPLE_MS));
            const { maxMs } = await server.loopDelay();
            samples.push({ from, at: Date.now(), maxMs });
          }
          return heartbeat;
        });
        const gcPauses = await server.gcPauses();
        const collected = mergeCollects(
          (await pool.all({ cmd: 'collect' }, 30_000)) as CollectResult[],
        );
        const audit = await staleAuditRows(databaseUrl!);
        // The samples that overlap the sweeps, as the clients saw their 4408s arrive.
        const during = samples.filter(
          (s) =>
            s.at >= collected.firstStaleCloseAt - LOOP_SAMPLE_MS &&
            s.at - LOOP_SAMPLE_MS <= collected.lastStaleCloseAt + LOOP_SAMPLE_MS,
        );
        const worst = during.reduce<LoopSample | null>(
          (a, b) => (a === null || b.maxMs > a.maxMs ? b : a),
          null,
        );
        return {
          sweepMs: collected.lastStaleCloseAt - collected.firstStaleCloseAt,
          loopBlockDuringSweep: Math.max(0, ...during.map((s) => s.maxMs)),
          loopBlockOverall: Math.max(0, ...samples.map((s) => s.maxMs)),
          gcDuringSweep: longestPause(pausesIn(gcPauses, during)),
          gcInWorstSample: worst ? longestPause(pausesIn(gcPauses, [worst])) : null,
          silentSwept: collected.silentSwept,
          wronglySwept: collected.wronglySwept,
          staleRows: audit.rows,
          staleSessions: audit.sessions,
          cpuPercent: (100 * run.cpuMicros) / (run.elapsedMs * 1000),
        };
      }),
    );
    const one = { mealpulse: result };
    const exactlyOne =
      result.staleRows === silent &&
      result.staleSessions === silent &&
      result.silentSwept === silent;
    return {
      id: 'W6',
      title: 'sweep cost (MealPulse; the references do not sweep or audit)',
      parameters: {
        sessions,
        silent,
        PRESENCE_STALE_AFTER_MS: timing.staleAfterMs,
        PRESENCE_SWEEP_INTERVAL_MS: timing.sweepIntervalMs,
        'live ping interval (ms)': timing.pingIntervalMs,
      },
      servers: ['mealpulse'],
      metrics: [
        metricOf(one, 'first to last 4408 seen by clients', 'ms', (r) => r.sweepMs, 0),
        metricOf(
          one,
          'event-loop delay max during the sweeps',
          'ms',
          (r) => r.loopBlockDuringSweep,
          1,
        ),
        metricOf(
          one,
          'event-loop delay max over the whole run',
          'ms',
          (r) => r.loopBlockOverall,
          1,
        ),
        metricOf(
          one,
          'longest GC pause during the sweeps',
          'ms',
          (r) => r.gcDuringSweep?.ms ?? 0,
          1,
        ),
        metricOf(one, 'silent sessions swept (4408)', 'count', (r) => r.silentSwept, 0),
        metricOf(one, 'live sessions wrongly swept', 'count', (r) => r.wronglySwept, 0),
        metricOf(one, 'audit rows ended "stale"', 'count', (r) => r.staleRows, 0),
        metricOf(one, 'server CPU', '% of a core', (r) => r.cpuPercent, 1),
      ],
      targets: [
        check(
          `event loop never stalled > ${TARGET_LOOP_BLOCK_MS} ms during the sweeps`,
          result.loopBlockDuringSweep,
          result.loopBlockDuringSweep <= TARGET_LOOP_BLOCK_MS,
          1,
        ),
        check(
          `exactly one "stale" audit row per swept session; all ${silent} silent ones swept`,
          result.staleRows,
          exactlyOne,
          0,
        ),
        check('0 live sessions swept', result.wronglySwept, result.wronglySwept === 0, 0),
      ],
      notes: [
        `The longest GC pause in the 100 ms sample that held the longest stall during the sweeps (${result.loopBlockDuringSweep.toFixed(1)} ms): ${describePause(result.gcInWorstSample)}; the longest in all the sweeps' samples: ${describePause(result.gcDuringSweep)}.`,
      ],
    } satisfies WorkloadReport;
  },
};

async function staleAuditRows(databaseUrl: string): Promise<{ rows: number; sessions: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ rows: string; sessions: string }>(
      `SELECT count(*) AS rows, count(DISTINCT session_id) AS sessions FROM ws_sessions WHERE end_reason = 'stale'`,
    );
    return { rows: Number(rows[0].rows), sessions: Number(rows[0].sessions) };
  } finally {
    await client.end();
  }
}

/** The pauses that started inside any of `samples`' windows. */
function pausesIn(pauses: GcPause[], samples: LoopSample[]): GcPause[] {
  return pauses.filter((p) => samples.some((s) => p.at >= s.from && p.at <= s.at));
}

function longestPause(pauses: GcPause[]): GcPause | null {
  return pauses.reduce<GcPause | null>((a, b) => (a === null || b.ms > a.ms ? b : a), null);
}

function describePause(pause: GcPause | null): string {
  return pause ? `${pause.ms.toFixed(1)} ms (${pause.kind})` : 'none';
}
