import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { createBenchDatabase } from '../harness/bench-database';
import { LOAD_CORE, SERVER_CORE } from '../harness/pinned-spawn';
import { check, metricOf, WorkloadReport } from '../harness/report';
import { MIGRATE_SCRIPT } from '../harness/server-kinds';
import { ServerUnderTest } from '../harness/server-under-test';
import { Measured, measured, withLoad } from '../harness/server-session';
import type { LoadPool } from '../load/load-pool';
import type { LoopDelayReading } from '../probe/probe-messages';
import { JobFeeder } from '../load/job-feeder';
import type { PostResult } from '../load/meal-poster';
import { targetOf } from './connect';
import { collectUntilDelivered, MergedCollect } from './load-results';
import { durationMsFor, sessionsFor, Workload } from './workload';

const TARGET_P99_MS = 20;
const TARGET_RATE = 1_000;
/**
 * Jobs in flight on A. Results are committed in groups, so many in flight cost few transactions;
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

/**
 * W7 scale-out: two MealPulse instances (A on the server core with the workers, B on the load
 * core) sharing one PostgreSQL and one Redis, each holding N sessions; every user has a phone on
 * A and a tablet on B. Meal logs completed by A's workers reach the phone on the same instance and
 * the tablet across Redis, so one run gives both latencies, their ratio, and the Redis traffic.
 */
export const w7Cluster: Workload = {
  name: 'w7',
  async run(context) {
    const perInstance = sessionsFor(context, 19_000, 200);
    const durationMs = durationMsFor(context, 10, 2);
    const rate = context.options.quick ? 50 : TARGET_RATE;
    const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    if (!(await redisReachable(redisUrl)))
      throw new Error(`W7 needs Redis at ${redisUrl} (BENCH_REDIS_URL)`);

    const database = await createBenchDatabase(context.database);
    try {
      // Both instances start on one database: migrate once, before either does.
      await promisify(execFile)(process.execPath, [MIGRATE_SCRIPT, 'run'], {
        env: { PATH: process.env.PATH, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
      });
      const shared = {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `bench-w7-${randomBytes(3).toString('hex')}:`,
        JOB_POLL_INTERVAL_MS: '50',
      };
      context.progress.update('W7 scale-out: starting two instances');
      const a = await ServerUnderTest.start(
        'mealpulse',
        { ...shared, JOB_CONCURRENCY },
        SERVER_CORE,
      );
      const b = await ServerUnderTest.start(
        'mealpulse',
        { ...shared, JOB_CONCURRENCY: '0' },
        LOAD_CORE,
      );
      try {
        return await withLoad(perInstance, (phones) =>
          withLoad(perInstance, (tablets) =>
            measure(context, {
              a,
              b,
              phones,
              tablets,
              perInstance,
              rate,
              durationMs,
              databaseUrl: database.url,
            }),
          ),
        );
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    } finally {
      await database.drop();
    }
  },
};

async function measure(
  context: Parameters<Workload['run']>[0],
  run: {
    a: ServerUnderTest;
    b: ServerUnderTest;
    phones: LoadPool;
    tablets: LoadPool;
    perInstance: number;
    rate: number;
    durationMs: number;
    databaseUrl: string;
  },
): Promise<WorkloadReport> {
  const { a, b, phones, tablets, perInstance, rate, durationMs, databaseUrl } = run;
  const open = async (pool: LoadPool, server: ServerUnderTest, deviceId: string) => {
    context.progress.update(
      `W7 scale-out: opening ${perInstance} ${deviceId} sessions on ${server.port}`,
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

  const before = { a: await counters(a, COUNTERS), b: await counters(b, COUNTERS) };
  context.progress.update(`W7 scale-out: ${opened} sessions, ${rate} meal logs/s through A`);
  // Both instances' CPU over the same window: B's is measured inside A's.
  const feeder = await JobFeeder.connect(databaseUrl, perInstance);
  await Promise.all([a.resetLoopDelay(), b.resetLoopDelay()]);
  let onA: Measured<Measured<PostResult>>;
  let backlog: number;
  // How late each event loop ran its timers: its own long tasks plus waiting for a core.
  let loopDelay: Record<'a' | 'b', LoopDelayReading>;
  try {
    onA = await measured(context, a, 'w7-a', () =>
      measured(context, b, 'w7-b', () => feeder.post(rate, durationMs)),
    );
    backlog = await feeder.queuedJobs();
  } finally {
    loopDelay = { a: await a.loopDelay(), b: await b.loopDelay() };
    await feeder.close();
  }
  const onB = onA.result;
  const posted = onB.result;
  const expected = posted.accepted.length;
  const [sameInstance, crossInstance] = await Promise.all([
    collectUntilDelivered(phones, expected, GRACE_MS),
    collectUntilDelivered(tablets, expected, GRACE_MS),
  ]);
  const after = { a: await counters(a, COUNTERS), b: await counters(b, COUNTERS) };
  const delta = (name: string) => after.a[name] - before.a[name] + (after.b[name] - before.b[name]);
  const writtenWithin20 = (server: 'a' | 'b') =>
    (100 * (after[server][WRITTEN_WITHIN_20] - before[server][WRITTEN_WITHIN_20])) /
    Math.max(1, after[server][WRITTEN] - before[server][WRITTEN]);

  const lost = (collected: MergedCollect) => {
    const received = new Set(collected.received);
    return posted.accepted.filter((id) => !received.has(id)).length + posted.failed;
  };
  const same = {
    p50: sameInstance.latency.percentileMillis(50),
    p99: sameInstance.latency.percentileMillis(99),
  };
  const cross = {
    p50: crossInstance.latency.percentileMillis(50),
    p99: crossInstance.latency.percentileMillis(99),
  };
  const messagesPerNotification = delta(PUBLISHED) / Math.max(1, delta(CREATED));
  const leaseCommandsPerFrame = delta(LEASE_COMMANDS) / Math.max(1, delta(LAST_SEEN));
  const readCommandsPerNotification = delta(READ_COMMANDS) / Math.max(1, delta(CREATED));
  const wronglySwept = sameInstance.wronglySwept + crossInstance.wronglySwept;
  const lostCount = lost(sameInstance) + lost(crossInstance);
  // Completions within the posting window: what was queued minus what was still queued at its end.
  const completionsPerSecond = (expected - backlog) / (posted.elapsedMs / 1000);
  const one = <T>(value: T) => ({ mealpulse: value });
  const cpuPercent = (run: { cpuMicros: number; elapsedMs: number }) =>
    (100 * run.cpuMicros) / (run.elapsedMs * 1000);

  return {
    id: 'W7',
    title: 'scale-out: two instances through Redis (MealPulse only)',
    parameters: {
      'sessions per instance': perInstance,
      'sessions held': opened,
      'meal logs/s': rate,
      'duration (s)': durationMs / 1000,
    },
    servers: ['mealpulse'],
    metrics: [
      metricOf(one(completionsPerSecond), 'completions/s', '1/s', (v) => v, 0),
      metricOf(one(backlog), 'jobs still queued when posting stopped', 'count', (v) => v, 0),
      metricOf(one(cpuPercent(onA)), 'A CPU while posting', '%', (v) => v, 0),
      metricOf(one(cpuPercent(onB)), 'B CPU while posting', '%', (v) => v, 0),
      metricOf(
        one(onA.cpuMicros / Math.max(1, expected)),
        'A CPU per meal log (worker, push, acks)',
        'µs',
        (v) => v,
        0,
      ),
      metricOf(
        one(onB.cpuMicros / Math.max(1, expected)),
        'B CPU per meal log (cross-instance push, acks)',
        'µs',
        (v) => v,
        0,
      ),
      metricOf(one(loopDelay.a.p99Ms), 'A event-loop delay p99 while posting', 'ms', (v) => v, 1),
      metricOf(one(loopDelay.b.p99Ms), 'B event-loop delay p99 while posting', 'ms', (v) => v, 1),
      metricOf(
        one(writtenWithin20('a')),
        'A: frames written ≤ 20 ms after commit',
        '%',
        (v) => v,
        1,
      ),
      metricOf(
        one(writtenWithin20('b')),
        'B: frames written ≤ 20 ms after commit',
        '%',
        (v) => v,
        1,
      ),
      metricOf(one(same), 'same instance: commit → frame p50', 'ms', (v) => v.p50, 1),
      metricOf(one(same), 'same instance: commit → frame p99', 'ms', (v) => v.p99, 1),
      metricOf(one(cross), 'cross instance: commit → frame p50', 'ms', (v) => v.p50, 1),
      metricOf(one(cross), 'cross instance: commit → frame p99', 'ms', (v) => v.p99, 1),
      metricOf(one(cross.p99 / same.p99), 'cross ÷ same instance p99', 'ratio', (v) => v, 2),
      metricOf(
        one(messagesPerNotification),
        'Redis messages per notification (1 target instance)',
        'count',
        (v) => v,
        2,
      ),
      metricOf(
        one(readCommandsPerNotification),
        'Redis presence reads per notification',
        'count',
        (v) => v,
        2,
      ),
      metricOf(
        one(leaseCommandsPerFrame),
        'Redis lease commands per inbound frame (ping, pong, ack)',
        'count',
        (v) => v,
        2,
      ),
      metricOf(one(lostCount), 'lost notifications (phones + tablets)', 'count', (v) => v, 0),
      metricOf(one(wronglySwept), 'sessions wrongly swept', 'count', (v) => v, 0),
    ],
    targets: [
      check(`${2 * perInstance} sessions held`, opened, opened === 2 * perInstance, 0),
      check('0 wrongly swept', wronglySwept, wronglySwept === 0, 0),
      check(
        `cross-instance p99 < ${TARGET_P99_MS} ms at ${rate} notifications/s`,
        cross.p99,
        cross.p99 < TARGET_P99_MS && completionsPerSecond >= 0.95 * rate,
        1,
      ),
      check(
        '≤ 1 Redis message per target instance per notification',
        messagesPerNotification,
        messagesPerNotification <= 1,
        2,
      ),
      check('0 lost', lostCount, lostCount === 0, 0),
    ],
    notes: [
      `A (server core) runs the workers (JOB_CONCURRENCY=${JOB_CONCURRENCY}) and the phones; B (load core, shared with the load generators) only holds the tablets. Latency is from the MealLog’s completedAt (set by the completion's UPDATE, before its commit) to the frame arriving at the client.`,
      'Meal logs are queued straight into PostgreSQL (what a POST leaves behind) at the steady rate: W7 measures the path from the worker onwards; REST ingress is W3’s and W4’s subject, and on two cores its CPU would come out of the pipeline under test.',
      "Lease commands are pipelined once per REDIS_PRESENCE_FLUSH_INTERVAL_MS (one script call per session that showed life in the interval, whatever its number of frames), never a round trip per ping; the two reads per notification are the user's session placements read as the completion's transaction begins (routing, and the online count recorded on the notification) and once more after the commit (for sessions opened meanwhile).",
    ],
  };
}
