import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { createBenchDatabase } from '../harness/bench-database';
import { RedisActivityWindow } from '../harness/redis-activity';
import { LOAD_CORE, SERVER_CORE } from '../harness/pinned-spawn';
import { highestRateUnder, keptUp, SweepStep, sweepGivesUp } from '../harness/rate-sweep';
import { check, metricOf, ratio, WorkloadReport } from '../harness/report';
import { MIGRATE_SCRIPT } from '../harness/server-kinds';
import type { ServerKind } from '../harness/server-kinds';
import { ServerUnderTest } from '../harness/server-under-test';
import { Measured, measured, withLoad } from '../harness/server-session';
import type { LoadPool } from '../load/load-pool';
import type { LoopDelayReading } from '../probe/probe-messages';
import { JobFeeder } from '../load/job-feeder';
import type { PostResult } from '../load/meal-poster';
import { TICK_MS } from '../load/steady-rate';
import { targetOf } from './connect';
import { collectUntilDelivered, MergedCollect } from './load-results';
import { durationMsFor, ratesFor, sessionsFor, Workload } from './workload';

/**
 * The default load leaves the machine headroom (two instances, PostgreSQL, Redis and the load
 * generators share two cores), so the ratios to the same run's baseline are what is judged.
 */
const DEFAULT_SESSIONS_PER_INSTANCE = 10_000;
const DEFAULT_RATE = 500;
/** Targets, as ratios to the baseline: B's CPU per notification, and cross-instance p99. */
const MAX_B_CPU_RATIO = 1.5;
const MAX_CROSS_P99_RATIO = 2;
/**
 * The rate sweep: cross-instance p99 at rising rates on the same instances and sessions, after
 * the main measurement; judged is the highest rate whose p99 stays under the threshold, as a
 * ratio to the baseline's.
 */
const SWEEP_RATES = [100, 250, 500, 750, 1000];
const SWEEP_WINDOW_S = 8;
const SWEEP_P99_THRESHOLD_MS = 100;
const MIN_SWEEP_RATE_RATIO = 0.6;
/** A sweep stops once cross p99 passes this: higher rates would only fall further behind. */
const SWEEP_GIVE_UP_P99_MS = 1_000;
/**
 * Jobs in flight on A. Results are committed in groups, so many in flight cost few statements;
 * 32 left a backlog at 1,000/s. With 100, every group was all of them and the next claim waited
 * for its commit (about 700/s on a busy day); 200 lets one group be claimed and analysed while
 * the other commits (942/s).
 */
const JOB_CONCURRENCY = '200';
/** After the last post, how long stragglers may take before they count as lost. */
const GRACE_MS = 15_000;

/** Reads counters from an instance's /metrics (sums every series of a name with a label prefix). */
async function counters(server: ServerUnderTest, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const totals: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    const name = names.find((n) => line.startsWith(n));
    if (name) totals[name] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return totals;
}

const PUBLISHED = 'mealpulse_redis_messages_published_total{kind="notifications"}';
const CREATED = 'mealpulse_notifications_created_total';
const LEASE_COMMANDS = 'mealpulse_redis_presence_commands_total{op="lease"}';
const READ_COMMANDS = 'mealpulse_redis_presence_commands_total{op="read"}';
const LAST_SEEN = 'mealpulse_presence_last_seen_updates_total';
const WRITTEN = 'mealpulse_notification_delivery_ms_count';
const WRITTEN_WITHIN_20 = 'mealpulse_notification_delivery_ms_bucket{le="20"}';
const COUNTERS = [
  PUBLISHED,
  CREATED,
  LEASE_COMMANDS,
  READ_COMMANDS,
  LAST_SEEN,
  WRITTEN,
  WRITTEN_WITHIN_20,
];

function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** The two kinds W7 runs, each as two instances: MealPulse and its baseline. */
type ClusterKind = Extract<ServerKind, 'mealpulse' | 'bare-ws-redis'>;

interface Instances {
  a: ServerUnderTest;
  b: ServerUnderTest;
  phones: LoadPool;
  tablets: LoadPool;
}

/** What MealPulse's /metrics tell about one run (the baseline has none). */
interface ClusterCounters {
  messagesPerNotification: number;
  readCommandsPerNotification: number;
  leaseCommandsPerFrame: number;
  /** Redis main-thread CPU per command processed in the window (every client's). */
  redisCpuPerCommandMicros: number;
  writtenWithin20: Record<'a' | 'b', number>;
}

interface ClusterRun {
  opened: number;
  completionsPerSecond: number;
  /** Jobs still queued when posting stopped (MealPulse; the baseline has no queue). */
  backlog: number | null;
  cpuPercent: Record<'a' | 'b', number>;
  cpuPerMealLog: Record<'a' | 'b', number>;
  loopDelayP99: Record<'a' | 'b', number>;
  /** Share of the posting window each event loop spent runnable but waiting for a core. */
  waitingPercent: Record<'a' | 'b', number>;
  same: Percentiles;
  cross: Percentiles;
  lost: number;
  wronglySwept: number;
  counters: ClusterCounters | null;
}

/** One rate of the sweep. */
interface SweepRun extends SweepStep {
  completionsPerSecond: number;
  lost: number;
}

/** A server kind's run: the main measurement, then the sweep on the same instances. */
interface ClusterResult {
  main: ClusterRun;
  sweep: SweepRun[];
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

interface RunShape {
  perInstance: number;
  rate: number;
  durationMs: number;
  redisUrl: string;
  sweepRates: number[];
  sweepWindowMs: number;
}

/**
 * W7 scale-out: two instances (A on the server core with the workers, B on the load core)
 * sharing one PostgreSQL and one Redis, each holding N sessions; every user has a phone on A and
 * a tablet on B. Meal logs completed on A reach the phone on the same instance and the tablet
 * across Redis, so one run gives both latencies, their ratio, and the Redis traffic. MealPulse
 * runs first, then its baseline (`ReferenceCluster`: one autocommit statement per group, a
 * publish, frame writes) on the same machine, so the ratios say what MealPulse's own path costs.
 */
export const w7Cluster: Workload = {
  name: 'w7',
  async run(context) {
    const shape: RunShape = {
      perInstance: sessionsFor(context, DEFAULT_SESSIONS_PER_INSTANCE, 200),
      durationMs: durationMsFor(context, 10, 2),
      rate: context.options.rate ?? (context.options.quick ? 50 : DEFAULT_RATE),
      redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      sweepRates: ratesFor(context, SWEEP_RATES, [50, 100]),
      // Quick: 2 s, as its main window, so that the jobs still queued at the end (a poll interval's
      // worth) stay under 5 % of the window's and a rate that kept up is not judged behind.
      sweepWindowMs: 1000 * (context.options.quick ? 2 : SWEEP_WINDOW_S),
    };
    if (!(await redisReachable(shape.redisUrl)))
      throw new Error(`W7 needs Redis at ${shape.redisUrl} (BENCH_REDIS_URL)`);
    return report(
      {
        mealpulse: await runCluster(context, 'mealpulse', shape),
        'bare-ws-redis': await runCluster(context, 'bare-ws-redis', shape),
      },
      shape,
    );
  },
};

async function runCluster(
  context: Parameters<Workload['run']>[0],
  kind: ClusterKind,
  shape: RunShape,
): Promise<ClusterResult> {
  const database = await createBenchDatabase(context.database);
  try {
    // Both instances start on one database: migrate once, before either does.
    await promisify(execFile)(process.execPath, [MIGRATE_SCRIPT, 'run'], {
      env: { PATH: process.env.PATH, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
    });
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: shape.redisUrl,
      REDIS_KEY_PREFIX: `bench-w7-${randomBytes(3).toString('hex')}:`,
      // The feeder queues a tick's meal logs every TICK_MS, and the baseline completes a tick's
      // worth per statement: polling as often, MealPulse's statements carry as many results.
      // Polled every 50 ms, each carried five ticks', and its commit → frame p50 was the time
      // PostgreSQL took for them (a statement's results all wait for its commit).
      JOB_POLL_INTERVAL_MS: String(TICK_MS),
    };
    context.progress.update(`W7 scale-out: starting two ${kind} instances`);
    const a = await ServerUnderTest.start(kind, { ...shared, JOB_CONCURRENCY }, SERVER_CORE);
    const b = await ServerUnderTest.start(kind, { ...shared, JOB_CONCURRENCY: '0' }, LOAD_CORE);
    try {
      return await withLoad(shape.perInstance, (phones) =>
        withLoad(shape.perInstance, async (tablets) => {
          const instances = { a, b, phones, tablets };
          const main = await measure(context, instances, shape, database.url);
          return { main, sweep: await sweep(context, instances, shape, database.url) };
        }),
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  } finally {
    await database.drop();
  }
}

/**
 * Completes meal logs on A at the steady rate: MealPulse's through its job queue (what a POST
 * leaves behind, queued by this process on the load core), the baseline's by A itself. The
 * baseline has no queue, so no backlog.
 */
async function complete(
  instances: Instances,
  shape: RunShape,
  databaseUrl: string,
): Promise<{ posted: PostResult; backlog: number | null }> {
  const { a, b } = instances;
  if (a.kind === 'bare-ws-redis') {
    const posted = await a.produceCompletions({
      rate: shape.rate,
      durationMs: shape.durationMs,
      users: shape.perInstance,
      peerPort: b.port,
    });
    return { posted, backlog: null };
  }
  const feeder = await JobFeeder.connect(databaseUrl, shape.perInstance);
  try {
    const posted = await feeder.post(shape.rate, shape.durationMs);
    return { posted, backlog: await feeder.queuedJobs() };
  } finally {
    await feeder.close();
  }
}

async function measure(
  context: Parameters<Workload['run']>[0],
  instances: Instances,
  shape: RunShape,
  databaseUrl: string,
): Promise<ClusterRun> {
  const { a, b, phones, tablets } = instances;
  const { perInstance, rate } = shape;
  const open = async (pool: LoadPool, server: ServerUnderTest, deviceId: string) => {
    context.progress.update(
      `W7 scale-out: opening ${perInstance} ${deviceId} sessions on ${server.label} ${server.port}`,
    );
    const results = (await pool.open(
      { ...targetOf(server), deviceId },
      { concurrency: 100, timeoutMs: 300_000 },
    )) as { opened: number; failed: number }[];
    return results.reduce((sum, r) => sum + r.opened, 0);
  };
  const opened = (await open(phones, a, 'phone')) + (await open(tablets, b, 'tablet'));
  await Promise.all([
    phones.all({ cmd: 'collect', reset: true }, 30_000),
    tablets.all({ cmd: 'collect', reset: true }, 30_000),
  ]);

  // Only MealPulse has /metrics.
  const counted = a.kind === 'mealpulse';
  const before = counted
    ? { a: await counters(a, COUNTERS), b: await counters(b, COUNTERS) }
    : null;
  context.progress.update(
    `W7 scale-out: ${opened} sessions, ${rate} meal logs/s through ${a.label} A`,
  );
  await Promise.all([a.resetLoopDelay(), b.resetLoopDelay()]);
  const redis = counted ? await RedisActivityWindow.open(shape.redisUrl) : null;
  let onA: Measured<Measured<{ posted: PostResult; backlog: number | null }>>;
  // How late each event loop ran its timers: its own long tasks plus waiting for a core.
  let loopDelay: Record<'a' | 'b', LoopDelayReading>;
  try {
    // Both instances' CPU over the same window: B's is measured inside A's.
    onA = await measured(context, a, 'w7-a', () =>
      measured(context, b, 'w7-b', () => complete(instances, shape, databaseUrl)),
    );
  } finally {
    loopDelay = { a: await a.loopDelay(), b: await b.loopDelay() };
  }
  const redisCpuPerCommandMicros = redis ? await redis.end() : Number.NaN;
  const onB = onA.result;
  const { posted, backlog } = onB.result;
  const expected = posted.accepted.length;
  const [sameInstance, crossInstance] = await Promise.all([
    collectUntilDelivered(phones, expected, GRACE_MS),
    collectUntilDelivered(tablets, expected, GRACE_MS),
  ]);
  const lost = (collected: MergedCollect) => lostOf(posted, collected);
  const latency = (collected: MergedCollect): Percentiles => ({
    p50: collected.latency.percentileMillis(50),
    p90: collected.latency.percentileMillis(90),
    p99: collected.latency.percentileMillis(99),
  });
  const cpuPercent = (run: { cpuMicros: number; elapsedMs: number }) =>
    (100 * run.cpuMicros) / (run.elapsedMs * 1000);
  const waitingPercent = (run: { runQueueWaitMicros: number; elapsedMs: number }) =>
    (100 * run.runQueueWaitMicros) / (run.elapsedMs * 1000);
  return {
    opened,
    // Completions within the posting window: what was queued minus what was still queued at its end.
    completionsPerSecond: (expected - (backlog ?? 0)) / (posted.elapsedMs / 1000),
    backlog,
    cpuPercent: { a: cpuPercent(onA), b: cpuPercent(onB) },
    cpuPerMealLog: {
      a: onA.cpuMicros / Math.max(1, expected),
      b: onB.cpuMicros / Math.max(1, expected),
    },
    loopDelayP99: { a: loopDelay.a.p99Ms, b: loopDelay.b.p99Ms },
    waitingPercent: { a: waitingPercent(onA), b: waitingPercent(onB) },
    same: latency(sameInstance),
    cross: latency(crossInstance),
    lost: lost(sameInstance) + lost(crossInstance),
    wronglySwept: sameInstance.wronglySwept + crossInstance.wronglySwept,
    counters: before && {
      ...countersOf(before, { a: await counters(a, COUNTERS), b: await counters(b, COUNTERS) }),
      redisCpuPerCommandMicros,
    },
  };
}

/** Notifications posted but not received (or never posted: refused). */
function lostOf(posted: PostResult, collected: MergedCollect): number {
  const received = new Set(collected.received);
  return posted.accepted.filter((id) => !received.has(id)).length + posted.failed;
}

/**
 * The rate sweep: each rate for a short window on the instances and sessions of the main
 * measurement, its cross-instance p99 once every notification arrived (or the grace passed),
 * up to the first rate whose p99 passes SWEEP_GIVE_UP_P99_MS.
 */
async function sweep(
  context: Parameters<Workload['run']>[0],
  instances: Instances,
  shape: RunShape,
  databaseUrl: string,
): Promise<SweepRun[]> {
  const { a, phones, tablets } = instances;
  const steps: SweepRun[] = [];
  for (const rate of shape.sweepRates) {
    context.progress.update(
      `W7 scale-out: rate sweep, ${rate} meal logs/s through ${a.label} A for ${shape.sweepWindowMs / 1000} s`,
    );
    const { posted, backlog } = await complete(
      instances,
      { ...shape, rate, durationMs: shape.sweepWindowMs },
      databaseUrl,
    );
    const expected = posted.accepted.length;
    const [same, cross] = await Promise.all([
      collectUntilDelivered(phones, expected, GRACE_MS),
      collectUntilDelivered(tablets, expected, GRACE_MS),
    ]);
    const completionsPerSecond = (expected - (backlog ?? 0)) / (posted.elapsedMs / 1000);
    const lost = lostOf(posted, same) + lostOf(posted, cross);
    const step: SweepRun = {
      rate,
      p99: cross.latency.percentileMillis(99),
      completionsPerSecond,
      lost,
      keptUp: keptUp(rate, completionsPerSecond, lost),
    };
    steps.push(step);
    if (sweepGivesUp(step, SWEEP_GIVE_UP_P99_MS)) break;
  }
  return steps;
}

function countersOf(
  before: Record<'a' | 'b', Record<string, number>>,
  after: Record<'a' | 'b', Record<string, number>>,
): Omit<ClusterCounters, 'redisCpuPerCommandMicros'> {
  const delta = (name: string) => after.a[name] - before.a[name] + (after.b[name] - before.b[name]);
  const writtenWithin20 = (server: 'a' | 'b') =>
    (100 * (after[server][WRITTEN_WITHIN_20] - before[server][WRITTEN_WITHIN_20])) /
    Math.max(1, after[server][WRITTEN] - before[server][WRITTEN]);
  return {
    messagesPerNotification: delta(PUBLISHED) / Math.max(1, delta(CREATED)),
    readCommandsPerNotification: delta(READ_COMMANDS) / Math.max(1, delta(CREATED)),
    leaseCommandsPerFrame: delta(LEASE_COMMANDS) / Math.max(1, delta(LAST_SEEN)),
    writtenWithin20: { a: writtenWithin20('a'), b: writtenWithin20('b') },
  };
}

function report(results: Record<ClusterKind, ClusterResult>, shape: RunShape): WorkloadReport {
  const runs = {
    mealpulse: results.mealpulse.main,
    'bare-ws-redis': results['bare-ws-redis'].main,
  };
  const mine = runs.mealpulse;
  const base = runs['bare-ws-redis'];
  const bCpuRatio = mine.cpuPerMealLog.b / base.cpuPerMealLog.b;
  const crossP99Ratio = mine.cross.p99 / base.cross.p99;
  const counted = mine.counters!;
  const both = <T>(pick: (run: ClusterRun) => T) => ({
    mealpulse: pick(runs.mealpulse),
    'bare-ws-redis': pick(runs['bare-ws-redis']),
  });
  const metric = (name: string, unit: string, pick: (run: ClusterRun) => number, digits = 1) =>
    metricOf(both(pick), name, unit, (v) => v, digits);
  const own = (name: string, unit: string, value: number, digits: number) =>
    metricOf({ mealpulse: value }, name, unit, (v) => v, digits);
  const sweepRows = shape.sweepRates.flatMap((rate) => {
    const at: Partial<Record<ClusterKind, SweepRun>> = {};
    for (const kind of ['mealpulse', 'bare-ws-redis'] as const) {
      const step = results[kind].sweep.find((s) => s.rate === rate);
      if (step) at[kind] = step;
    }
    return [
      metricOf(at, `sweep ${rate}/s: completions/s`, '1/s', (s) => s.completionsPerSecond, 0),
      metricOf(at, `sweep ${rate}/s: cross instance p99`, 'ms', (s) => s.p99),
    ];
  });
  const highestUnder = metricOf(
    {
      mealpulse: highestRateUnder(results.mealpulse.sweep, SWEEP_P99_THRESHOLD_MS),
      'bare-ws-redis': highestRateUnder(results['bare-ws-redis'].sweep, SWEEP_P99_THRESHOLD_MS),
    },
    `highest rate with cross p99 < ${SWEEP_P99_THRESHOLD_MS} ms (sweep)`,
    '1/s',
    (v) => v,
    0,
  );
  const sweepRatio = ratio(highestUnder, 'bare-ws-redis');
  const topRate = Math.max(...shape.sweepRates);
  return {
    id: 'W7',
    title: 'scale-out: two instances through Redis',
    parameters: {
      'sessions per instance': shape.perInstance,
      'sessions held': mine.opened,
      'meal logs/s': shape.rate,
      'duration (s)': shape.durationMs / 1000,
      'sweep rates (meal logs/s)': shape.sweepRates.join(', '),
      'sweep window per rate (s)': shape.sweepWindowMs / 1000,
    },
    servers: ['mealpulse', 'bare-ws-redis'],
    metrics: [
      metric('sessions held', 'count', (r) => r.opened, 0),
      metric('completions/s', '1/s', (r) => r.completionsPerSecond, 0),
      own('jobs still queued when posting stopped', 'count', mine.backlog ?? 0, 0),
      metric('A CPU while posting', '%', (r) => r.cpuPercent.a, 0),
      metric('B CPU while posting', '%', (r) => r.cpuPercent.b, 0),
      metric('A CPU per meal log (worker, push, acks)', 'µs', (r) => r.cpuPerMealLog.a, 0),
      metric('B CPU per meal log (cross-instance push, acks)', 'µs', (r) => r.cpuPerMealLog.b, 0),
      metric('A event-loop delay p99 while posting', 'ms', (r) => r.loopDelayP99.a),
      metric('B event-loop delay p99 while posting', 'ms', (r) => r.loopDelayP99.b),
      metric('A event loop waiting for a core while posting', '%', (r) => r.waitingPercent.a, 0),
      metric('B event loop waiting for a core while posting', '%', (r) => r.waitingPercent.b, 0),
      own('A: frames written ≤ 20 ms after commit', '%', counted.writtenWithin20.a, 1),
      own('B: frames written ≤ 20 ms after commit', '%', counted.writtenWithin20.b, 1),
      metric('same instance: commit → frame p50', 'ms', (r) => r.same.p50),
      metric('same instance: commit → frame p90', 'ms', (r) => r.same.p90),
      metric('same instance: commit → frame p99', 'ms', (r) => r.same.p99),
      metric('cross instance: commit → frame p50', 'ms', (r) => r.cross.p50),
      metric('cross instance: commit → frame p90', 'ms', (r) => r.cross.p90),
      metric('cross instance: commit → frame p99', 'ms', (r) => r.cross.p99),
      metric('cross ÷ same instance p99', 'ratio', (r) => r.cross.p99 / r.same.p99, 2),
      own(
        'Redis messages per notification (1 target instance)',
        'count',
        counted.messagesPerNotification,
        2,
      ),
      own('Redis presence reads per notification', 'count', counted.readCommandsPerNotification, 2),
      own(
        'Redis lease commands per inbound frame (ping, pong, ack)',
        'count',
        counted.leaseCommandsPerFrame,
        2,
      ),
      own('Redis CPU per command (main thread)', 'µs', counted.redisCpuPerCommandMicros, 2),
      metric('lost notifications (phones + tablets)', 'count', (r) => r.lost, 0),
      metric('sessions wrongly swept', 'count', (r) => r.wronglySwept, 0),
      ...sweepRows,
      highestUnder,
    ],
    targets: [
      check(
        `${2 * shape.perInstance} sessions held`,
        mine.opened,
        mine.opened === 2 * shape.perInstance,
        0,
      ),
      check('0 wrongly swept', mine.wronglySwept, mine.wronglySwept === 0, 0),
      check(
        `B's CPU per notification ≤ ${MAX_B_CPU_RATIO}× the baseline's`,
        bCpuRatio,
        bCpuRatio <= MAX_B_CPU_RATIO,
      ),
      check(
        `cross-instance p99 ≤ ${MAX_CROSS_P99_RATIO}× the baseline's at ${shape.rate} notifications/s`,
        crossP99Ratio,
        crossP99Ratio <= MAX_CROSS_P99_RATIO && mine.completionsPerSecond >= 0.95 * shape.rate,
      ),
      check(
        `highest rate with cross-instance p99 < ${SWEEP_P99_THRESHOLD_MS} ms ≥ ${MIN_SWEEP_RATE_RATIO}× the baseline's`,
        sweepRatio,
        sweepRatio >= MIN_SWEEP_RATE_RATIO,
      ),
      check(
        '≤ 1 Redis message per target instance per notification',
        counted.messagesPerNotification,
        counted.messagesPerNotification <= 1,
        2,
      ),
      check('0 lost', mine.lost, mine.lost === 0, 0),
    ],
    notes: [
      `Rate sweep: after the main measurement, on the same instances and sessions, meal logs at ${shape.sweepRates.join(', ')}/s for ${shape.sweepWindowMs / 1000} s each, each rate's notifications all delivered (or ${GRACE_MS / 1000} s passed) before the next; a rate counts while it and every lower one kept cross-instance p99 under ${SWEEP_P99_THRESHOLD_MS} ms with ≥ 95 % of it completed and nothing lost, and a server stops at a p99 over ${SWEEP_GIVE_UP_P99_MS} ms.${highestUnder.values['bare-ws-redis'] === topRate ? ` The baseline held up to the top rate swept (${topRate}/s), so its highest rate is a floor and the ratio a ceiling.` : ''}`,
      `A (server core) runs the workers (JOB_CONCURRENCY=${JOB_CONCURRENCY}) and the phones; B (load core, shared with the load generators) only holds the tablets. Latency is from the MealLog’s completedAt (stamped by A as it sends the completion’s statement, which commits on its own) to the frame arriving at the client.`,
      'Meal logs are queued straight into PostgreSQL (what a POST leaves behind) at the steady rate: W7 measures the path from the worker onwards; REST ingress is W3’s and W4’s subject, and on two cores its CPU would come out of the pipeline under test.',
      'The baseline (bare ws + Redis, run after MealPulse on the same machine) is the bare `ws` server as two instances: A inserts each group of completed meal logs in one autocommit statement (completed_at stamped in the statement that commits), publishes the group’s pre-serialised frames once to B without any routing read, and writes them to its phones; B writes them to its tablets. No analysis, outbox row, sequence row (seqs counted in memory), presence lease or acknowledgement write, and the meal logs are produced inside A rather than queued by the orchestrator on the load core: the floor for this path on this machine.',
      'Waiting for a core: the time the instance’s main thread was runnable but not running (the kernel’s /proc/<pid>/schedstat), as a share of the posting window. PostgreSQL, Redis and the load generators share the two cores with the instances; every reply or frame an instance waits for can wait that long again.',
      "Lease commands are pipelined once per REDIS_PRESENCE_FLUSH_INTERVAL_MS (one script call per session that showed life in the interval, whatever its number of frames), never a round trip per ping; the two reads per notification are the user's session placements read just before the completion's statement (routing, and the online count recorded on the notification) and once more after the commit (for sessions opened meanwhile).",
    ],
  };
}
