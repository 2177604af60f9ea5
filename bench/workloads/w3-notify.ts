import {
  DatabaseActivityWindow,
  MEAL_LOG_TABLES,
  mealLogActivityMetrics,
} from '../harness/database-activity';
import { highestRateUnder, keptUp, nearestRate, sweepGivesUp } from '../harness/rate-sweep';
import { check, Metric, metricOf, ratio, WorkloadReport } from '../harness/report';
import type { ServerKind } from '../harness/server-kinds';
import { BENCH_JWT_SECRET } from '../harness/server-under-test';
import { measured, withLoad, withServer } from '../harness/server-session';
import { MealPoster } from '../load/meal-poster';
import { openSessions } from './connect';
import { collectUntilDelivered } from './load-results';
import { durationMsFor, ratesFor, sessionsFor, Workload, WorkloadContext } from './workload';

/** Targets, against the bare pipeline of the same run: p99 at this rate, and capacity. */
const JUDGED_RATE = 500;
const MAX_P99_RATIO = 2;
const MIN_CAPACITY_RATIO = 0.7;
/** Enough workers and polling for the pipeline, not the defaults' trickle, to set the pace. */
const ENV = { JOB_CONCURRENCY: '32', JOB_POLL_INTERVAL_MS: '50' };
/** After the last post, how long stragglers may take before they count as lost. */
const GRACE_MS = 15_000;
/** A pipeline this far behind (p99) only gets further behind at higher rates: stop there. */
const GIVE_UP_P99_MS = 1_000;
/** Reported, not judged: the highest rate whose p99 stayed under this. */
const INFORMATIVE_P99_MS = 100;

type PipelineKind = Extract<ServerKind, 'mealpulse' | 'bare-pipeline'>;

interface RateStep {
  rate: number;
  posted: number;
  completionsPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
  duplicates: number;
  /** Server CPU over the posting window and the stragglers, per meal log posted. */
  cpuPerMealLog: number;
}

/**
 * W3 notification latency: N sessions connected, meal logs posted over REST at rising steady
 * rates; for each rate, the ms from the completion commit (the MealLog's `completedAt` in the
 * frame) to the frame arriving, and whether every notification arrived exactly once. MealPulse
 * first, then the bare pipeline (`bare-pipeline.server.ts`) on the same machine, with the same
 * job variables, as the reference its latency and capacity are judged against.
 */
export const w3Notify: Workload = {
  name: 'w3',
  async run(context) {
    const sessions = sessionsFor(context, 10_000, 200);
    const durationMs = durationMsFor(context, 10, 1);
    const rates = ratesFor(context, [100, 250, 500, 750, 1000], [50]);
    const mealpulse = await stepThrough(context, 'mealpulse', sessions, durationMs, rates);
    const reference = await stepThrough(context, 'bare-pipeline', sessions, durationMs, rates);
    const steps: Record<PipelineKind, RateStep[]> = {
      mealpulse: mealpulse.steps,
      'bare-pipeline': reference.steps,
    };
    return report(steps, mealpulse.database, sessions, durationMs, rates);
  },
};

async function stepThrough(
  context: WorkloadContext,
  kind: PipelineKind,
  sessions: number,
  durationMs: number,
  rates: number[],
): Promise<{ steps: RateStep[]; database: Metric[] }> {
  return withServer(context, kind, ENV, (server, databaseUrl) =>
    withLoad(sessions, async (pool) => {
      context.progress.update(`W3 notifications: opening ${sessions} sessions on ${server.label}`);
      await openSessions(pool, server);
      const poster = new MealPoster(server.port, sessions, BENCH_JWT_SECRET);
      const measuredSteps: RateStep[] = [];
      // PostgreSQL's work per meal log, for the capacity model: MealPulse's only.
      const activity =
        kind === 'mealpulse'
          ? await DatabaseActivityWindow.open(databaseUrl!, MEAL_LOG_TABLES, context.options)
          : undefined;
      try {
        for (const rate of rates) {
          context.progress.update(
            `W3 notifications: ${server.label}, ${sessions} sessions, ${rate} meal logs/s`,
          );
          const run = await measured(context, server, `w3-${rate}`, async () => {
            const posted = await poster.post(rate, durationMs);
            const collected = await collectUntilDelivered(pool, posted.accepted.length, GRACE_MS);
            return { posted, collected };
          });
          const { posted, collected } = run.result;
          const received = new Set(collected.received);
          const step: RateStep = {
            rate,
            posted: posted.accepted.length,
            completionsPerSecond: received.size / (posted.elapsedMs / 1000),
            p50: collected.latency.percentileMillis(50),
            p99: collected.latency.percentileMillis(99),
            lost: posted.accepted.filter((id) => !received.has(id)).length + posted.failed,
            duplicates: collected.duplicates,
            cpuPerMealLog: run.cpuMicros / Math.max(1, posted.accepted.length),
          };
          measuredSteps.push(step);
          if (sweepGivesUp({ ...step, keptUp: true }, GIVE_UP_P99_MS)) break;
        }
      } finally {
        poster.close();
      }
      const database = activity
        ? mealLogActivityMetrics(
            await activity.end(),
            measuredSteps.reduce((sum, s) => sum + s.posted, 0),
          )
        : [];
      return { steps: measuredSteps, database };
    }),
  );
}

function report(
  steps: Record<PipelineKind, RateStep[]>,
  database: Metric[],
  sessions: number,
  durationMs: number,
  rates: number[],
): WorkloadReport {
  const judgedRate = nearestRate(rates, JUDGED_RATE);
  const stepAt = (kind: PipelineKind, rate: number) => steps[kind].find((s) => s.rate === rate);
  const capacity = (kind: PipelineKind) =>
    Math.max(0, ...steps[kind].map((s) => s.completionsPerSecond));
  const underInformative = (kind: PipelineKind) =>
    highestRateUnder(
      steps[kind].map((s) => ({
        rate: s.rate,
        p99: s.p99,
        keptUp: keptUp(s.rate, s.completionsPerSecond, s.lost),
      })),
      INFORMATIVE_P99_MS,
    );
  const perRate = rates.flatMap((rate) => {
    const at: Partial<Record<PipelineKind, RateStep>> = {};
    for (const kind of ['mealpulse', 'bare-pipeline'] as const) {
      const step = stepAt(kind, rate);
      if (step) at[kind] = step;
    }
    const label = `${rate}/s`;
    return [
      metricOf(at, `${label}: completions/s`, '1/s', (s) => s.completionsPerSecond, 0),
      metricOf(at, `${label}: commit → frame p50`, 'ms', (s) => s.p50, 1),
      metricOf(at, `${label}: commit → frame p99`, 'ms', (s) => s.p99, 1),
      metricOf(at, `${label}: server CPU per meal log`, 'µs', (s) => s.cpuPerMealLog, 0),
      metricOf(at, `${label}: lost / duplicates`, 'count', (s) => s.lost + s.duplicates, 0),
    ];
  });
  const both = <T>(pick: (kind: PipelineKind) => T) => ({
    mealpulse: pick('mealpulse'),
    'bare-pipeline': pick('bare-pipeline'),
  });
  const judgedP99 = metricOf(
    both((kind) => stepAt(kind, judgedRate)?.p99 ?? Number.NaN),
    `p99 at ${judgedRate}/s`,
    'ms',
    (v) => v,
  );
  const capacities = metricOf(
    both(capacity),
    'capacity: highest completions/s reached',
    '1/s',
    (v) => v,
    0,
  );
  const p99Ratio = ratio(judgedP99, 'bare-pipeline');
  const capacityRatio = ratio(capacities, 'bare-pipeline');
  return {
    id: 'W3',
    title: 'notification latency against a bare pipeline',
    parameters: {
      sessions,
      'duration per rate (s)': durationMs / 1000,
      'rates (meal logs/s)': rates.join(', '),
    },
    servers: ['mealpulse', 'bare-pipeline'],
    metrics: [
      ...perRate,
      capacities,
      metricOf(
        both(underInformative),
        `highest rate with p99 < ${INFORMATIVE_P99_MS} ms, keeping up`,
        '1/s',
        (v) => v,
        0,
      ),
      ...database,
    ],
    targets: [
      check(
        `p99 ≤ ${MAX_P99_RATIO}× the bare pipeline's at ${judgedRate}/s`,
        p99Ratio,
        p99Ratio <= MAX_P99_RATIO,
      ),
      check(
        `capacity (highest completions/s reached) ≥ ${MIN_CAPACITY_RATIO}× the bare pipeline's`,
        capacityRatio,
        capacityRatio >= MIN_CAPACITY_RATIO,
      ),
    ],
    notes: [
      `JOB_CONCURRENCY=${ENV.JOB_CONCURRENCY}, JOB_POLL_INTERVAL_MS=${ENV.JOB_POLL_INTERVAL_MS} for both; every notification is acknowledged by the client, as the app does. A server whose p99 passes ${GIVE_UP_P99_MS} ms is not offered the higher rates.`,
      'The bare pipeline (run after MealPulse on the same machine) is one node:http + ws + pg process: the same POST statement as W4’s node:http + pg, one statement claiming due jobs (oldest first, FOR UPDATE SKIP LOCKED, under a lease), one statement per job deleting it and completing its meal log (completed_at stamped in the statement that commits), then the frame written to the user’s sessions. No analysis: it stores what MealPulse’s built-in analyser makes of the posted text, as the bench keeps no copy of the analyser (the analysis is about 25 µs of CPU per meal log on this machine); no outbox, sequence row, delivery ledger, retries, fairness between users or acknowledgement write.',
      'PostgreSQL per meal log (MealPulse): pg_stat_database and pg_stat_user_tables of the run’s own database over every rate step (POST, job, completion, notification, acknowledgement), the server’s background statements included; WAL from pg_current_wal_lsn, which counts the whole cluster. Bytes per row: pg_total_relation_size ÷ rows at the end.',
      'Capacity is the highest completions/s over the rates offered, so it cannot exceed the highest rate offered: equal capacities at that rate mean both kept up.',
    ],
  } satisfies WorkloadReport;
}
