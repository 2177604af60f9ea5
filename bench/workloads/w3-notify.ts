import {
  DatabaseActivityWindow,
  MEAL_LOG_TABLES,
  mealLogActivityMetrics,
} from '../harness/database-activity';
import { check, Metric, metricOf, WorkloadReport } from '../harness/report';
import { BENCH_JWT_SECRET } from '../harness/server-under-test';
import { withLoad, withServer } from '../harness/server-session';
import { MealPoster } from '../load/meal-poster';
import { openSessions } from './connect';
import { collectUntilDelivered } from './load-results';
import { durationMsFor, sessionsFor, Workload } from './workload';

const TARGET_P99_MS = 50;
const TARGET_RATE = 500;
/** Enough workers and polling for the pipeline, not the defaults' trickle, to set the pace. */
const ENV = { JOB_CONCURRENCY: '32', JOB_POLL_INTERVAL_MS: '50' };
/** After the last post, how long stragglers may take before they count as lost. */
const GRACE_MS = 15_000;

interface RateStep {
  rate: number;
  posted: number;
  completionsPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
  duplicates: number;
}

/**
 * W3 notification latency: N sessions connected, meal logs posted over REST at rising steady
 * rates; for each rate, the ms from the completion commit (the MealLog's `completedAt` in the
 * frame) to the frame arriving, and whether every notification arrived exactly once.
 */
export const w3Notify: Workload = {
  name: 'w3',
  async run(context) {
    const sessions = sessionsFor(context, 10_000, 200);
    const durationMs = durationMsFor(context, 10, 1);
    const rates = context.options.quick ? [50] : [100, 250, 500, 750, 1000];
    let database: Metric[] = [];
    const steps = await withServer(context, 'mealpulse', ENV, (server, databaseUrl) =>
      withLoad(sessions, async (pool) => {
        await openSessions(pool, server);
        const poster = new MealPoster(server.port, sessions, BENCH_JWT_SECRET);
        const measured: RateStep[] = [];
        const activity = await DatabaseActivityWindow.open(
          databaseUrl!,
          MEAL_LOG_TABLES,
          context.options,
        );
        try {
          for (const rate of rates) {
            context.progress.update(`W3 notifications: ${sessions} sessions, ${rate} meal logs/s`);
            const posted = await poster.post(rate, durationMs);
            const collected = await collectUntilDelivered(pool, posted.accepted.length, GRACE_MS);
            const received = new Set(collected.received);
            const step: RateStep = {
              rate,
              posted: posted.accepted.length,
              completionsPerSecond: received.size / (posted.elapsedMs / 1000),
              p50: collected.latency.percentileMillis(50),
              p99: collected.latency.percentileMillis(99),
              lost: posted.accepted.filter((id) => !received.has(id)).length + posted.failed,
              duplicates: collected.duplicates,
            };
            measured.push(step);
            // A pipeline that has fallen far behind only gets further behind at higher rates.
            if (step.p99 > 20 * TARGET_P99_MS) break;
          }
        } finally {
          poster.close();
        }
        database = mealLogActivityMetrics(
          await activity.end(),
          measured.reduce((sum, s) => sum + s.posted, 0),
        );
        return measured;
      }),
    );
    const passing = steps.filter(
      (s) => s.p99 < TARGET_P99_MS && s.lost === 0 && s.completionsPerSecond >= 0.95 * s.rate,
    );
    const best = Math.max(0, ...passing.map((s) => s.rate));
    const lost = steps.reduce((sum, s) => sum + s.lost, 0);
    const duplicates = steps.reduce((sum, s) => sum + s.duplicates, 0);
    const byRate = Object.fromEntries(steps.map((s) => [`${s.rate}/s`, s]));
    return {
      id: 'W3',
      title: 'notification latency (MealPulse; the references have no pipeline)',
      parameters: { sessions, 'duration per rate (s)': durationMs / 1000 },
      servers: ['mealpulse'],
      metrics: Object.entries(byRate)
        .flatMap(([label, step]) => {
          const one = { mealpulse: step };
          return [
            metricOf(one, `${label}: completions/s`, '1/s', (s) => s.completionsPerSecond, 0),
            metricOf(one, `${label}: commit → frame p50`, 'ms', (s) => s.p50, 1),
            metricOf(one, `${label}: commit → frame p99`, 'ms', (s) => s.p99, 1),
            metricOf(one, `${label}: lost / duplicates`, 'count', (s) => s.lost + s.duplicates, 0),
          ];
        })
        .concat(database),
      targets: [
        check(
          `p99 < ${TARGET_P99_MS} ms at ≥ ${TARGET_RATE} completions/s (highest passing rate)`,
          best,
          best >= TARGET_RATE,
          0,
        ),
        check('0 lost', lost, lost === 0, 0),
        check('0 duplicates (no reconnects here)', duplicates, duplicates === 0, 0),
      ],
      notes: [
        `JOB_CONCURRENCY=${ENV.JOB_CONCURRENCY}, JOB_POLL_INTERVAL_MS=${ENV.JOB_POLL_INTERVAL_MS}; every notification is acknowledged by the client, as the app does.`,
        'PostgreSQL per meal log: pg_stat_database and pg_stat_user_tables of the run’s own database over every rate step (POST, job, completion, notification, acknowledgement), the server’s background statements included; WAL from pg_current_wal_lsn, which counts the whole cluster. Bytes per row: pg_total_relation_size ÷ rows at the end.',
      ],
    } satisfies WorkloadReport;
  },
};
