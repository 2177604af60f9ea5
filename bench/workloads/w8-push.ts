import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { FakeApns } from '../../tools/apns-peer/fake-apns';
import { localApnsPeer } from '../../tools/service/local-service';
import { LatencyHistogram } from '../harness/latency-histogram';
import { check, metricOf, WorkloadReport } from '../harness/report';
import { BENCH_JWT_SECRET, ServerUnderTest } from '../harness/server-under-test';
import { measured, withLoad, withServer } from '../harness/server-session';
import type { SendAllResult } from '../load/load-messages';
import type { LoadPool } from '../load/load-pool';
import { MealPoster } from '../load/meal-poster';
import { userIdOf } from '../load/session-pool';
import { openSessions } from './connect';
import { collectUntilDelivered } from './load-results';
import { durationMsFor, sessionsFor, Workload } from './workload';

const TARGET_PUSH_P99_MS = 100;
/** "Unchanged": the socket's p99 with pushes flowing, against the same run without them. */
const SOCKET_P99_SLACK = { ratio: 1.25, ms: 5 };
/** As W3: enough workers and polling for the pipeline, not the defaults' trickle, to set the pace. */
const ENV = { JOB_CONCURRENCY: '32', JOB_POLL_INTERVAL_MS: '50' };
const GRACE_MS = 15_000;
/** Token registrations in flight while the sessions' devices register. */
const REGISTER_CONCURRENCY = 32;

interface Phase {
  posted: number;
  lost: number;
  socketP50: number;
  socketP99: number;
  pushes: number;
  pushesPerSecond: number;
  /** Pushes beyond one per notification (the peer received the same meal log twice). */
  duplicatePushes: number;
  pushP50: number;
  pushP99: number;
  cpuPerMealLogMicros: number;
}

/** The bench user's device token: any 64 hex characters, one per user. */
const tokenOf = (index: number) => index.toString(16).padStart(64, '0');

async function registerTokens(server: ServerUnderTest, users: number): Promise<void> {
  const { sign } = await import('jsonwebtoken');
  let next = 0;
  const register = async () => {
    while (next < users) {
      const index = next++;
      const token = sign({ sub: userIdOf(index) }, BENCH_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 3600,
      });
      const response = await fetch(`${server.baseUrl}/api/v1/devices/d/push-token`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: tokenOf(index) }),
      });
      if (response.status !== 204)
        throw new Error(`registering a push token answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, register));
}

/** Commit (the MealLog's `completedAt`) → APNs request, for the pushes of these meal logs. */
async function pushLatencies(
  databaseUrl: string,
  apns: FakeApns,
  fromRequest: number,
  mealLogIds: string[],
): Promise<{ histogram: LatencyHistogram; pushes: number; duplicates: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const completedAt = new Map<string, number>();
  try {
    const { rows } = await client.query<{ id: string; completed_at: Date }>(
      `SELECT id, completed_at FROM meal_logs WHERE id = ANY($1::uuid[])`,
      [mealLogIds],
    );
    for (const row of rows) completedAt.set(row.id, row.completed_at.getTime());
  } finally {
    await client.end();
  }
  const histogram = new LatencyHistogram();
  const seen = new Set<string>();
  let pushes = 0;
  let duplicates = 0;
  for (const request of apns.requests.slice(fromRequest)) {
    const id = (request.payload as { mealLogId?: string } | undefined)?.mealLogId;
    const committed = id === undefined ? undefined : completedAt.get(id);
    if (request.status !== 200 || id === undefined || committed === undefined) continue;
    pushes++;
    if (seen.has(id)) duplicates++;
    else histogram.recordMillis(request.at - committed);
    seen.add(id);
  }
  return { histogram, pushes, duplicates };
}

/**
 * W8 the push path: N sessions of users with a push token; meal logs at a steady rate, twice on
 * the same server and sessions: first with every app in the foreground (it acks each frame, so
 * nothing is pushed: the socket channel alone), then with every app in the background (each
 * notification is pushed at once, to the local APNs peer, which answers at once). Measured: the
 * pushes, commit → APNs request, CPU per meal log in each phase (their difference is what a push
 * costs), and the socket's commit → frame in both (the push channel must not delay it).
 */
export const w8Push: Workload = {
  name: 'w8',
  async run(context) {
    const sessions = sessionsFor(context, 10_000, 200);
    const durationMs = durationMsFor(context, 10, 2);
    const rate = context.options.rate ?? (context.options.quick ? 50 : 500);
    const dir = await mkdtemp(join(tmpdir(), 'mealpulse-w8-'));
    const apns = await localApnsPeer(dir);
    try {
      const phases = await withServer(
        context,
        'mealpulse',
        { ...ENV, ...apns.env },
        (server, databaseUrl) =>
          withLoad(sessions, async (pool) => {
            await openSessions(pool, server);
            context.progress.update(`W8 push: registering ${sessions} device tokens`);
            await registerTokens(server, sessions);
            const poster = new MealPoster(server.port, sessions, BENCH_JWT_SECRET);
            const phase = async (label: string): Promise<Phase> => {
              context.progress.update(`W8 push: ${sessions} sessions, ${rate}/s, ${label}`);
              const fromRequest = apns.peer.requests.length;
              const window = await measured(context, server, `w8-${label}`, async () => {
                const posted = await poster.post(rate, durationMs);
                const collected = await collectUntilDelivered(
                  pool,
                  posted.accepted.length,
                  GRACE_MS,
                );
                return { posted, collected };
              });
              const { posted, collected } = window.result;
              if (label === 'background') {
                // Every notification is due at once; give the pushes still on the way their time.
                const deadline = Date.now() + GRACE_MS;
                const accepted = () =>
                  apns.peer.requests.slice(fromRequest).filter((r) => r.status === 200).length;
                while (accepted() < posted.accepted.length && Date.now() < deadline)
                  await new Promise((resolve) => setTimeout(resolve, 100));
              }
              const push = await pushLatencies(
                databaseUrl!,
                apns.peer,
                fromRequest,
                posted.accepted,
              );
              const received = new Set(collected.received);
              return {
                posted: posted.accepted.length,
                lost: posted.accepted.filter((id) => !received.has(id)).length + posted.failed,
                socketP50: collected.latency.percentileMillis(50),
                socketP99: collected.latency.percentileMillis(99),
                pushes: push.pushes,
                pushesPerSecond: push.pushes / (window.elapsedMs / 1000),
                duplicatePushes: push.duplicates,
                pushP50: push.histogram.percentileMillis(50),
                pushP99: push.histogram.percentileMillis(99),
                cpuPerMealLogMicros: window.cpuMicros / Math.max(1, posted.accepted.length),
              };
            };
            try {
              const foreground = await phase('foreground');
              await backgroundEverySession(pool);
              const background = await phase('background');
              return { foreground, background };
            } finally {
              poster.close();
            }
          }),
      );
      return report(sessions, rate, durationMs, phases);
    } finally {
      await apns.peer.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

async function backgroundEverySession(pool: LoadPool): Promise<void> {
  const results = (await pool.all(
    { cmd: 'send-all', frame: { type: 'app_state', state: 'background' }, timeoutMs: 60_000 },
    90_000,
  )) as SendAllResult[];
  if (results.some((r) => r.sent === 0)) throw new Error('W8: sessions were not backgrounded');
}

function report(
  sessions: number,
  rate: number,
  durationMs: number,
  { foreground, background }: { foreground: Phase; background: Phase },
): WorkloadReport {
  const rows: [string, string, (p: Phase) => number, number][] = [
    ['meal logs posted', 'count', (p) => p.posted, 0],
    ['pushes (APNs requests answered 200)', 'count', (p) => p.pushes, 0],
    ['pushes/s', '1/s', (p) => p.pushesPerSecond, 0],
    ['commit → APNs request p50', 'ms', (p) => p.pushP50, 1],
    ['commit → APNs request p99', 'ms', (p) => p.pushP99, 1],
    ['commit → socket frame p50', 'ms', (p) => p.socketP50, 1],
    ['commit → socket frame p99', 'ms', (p) => p.socketP99, 1],
    ['server CPU per meal log', 'µs', (p) => p.cpuPerMealLogMicros, 0],
    ['lost (socket) / duplicate pushes', 'count', (p) => p.lost + p.duplicatePushes, 0],
  ];
  const pushCpu =
    (background.cpuPerMealLogMicros - foreground.cpuPerMealLogMicros) *
    (background.posted / Math.max(1, background.pushes));
  const socketBound = Math.max(
    foreground.socketP99 * SOCKET_P99_SLACK.ratio,
    foreground.socketP99 + SOCKET_P99_SLACK.ms,
  );
  return {
    id: 'W8',
    title: 'the push path (MealPulse; foreground phase, then every app in the background)',
    parameters: { sessions, 'meal logs/s': rate, 'duration per phase (s)': durationMs / 1000 },
    servers: ['mealpulse'],
    metrics: rows.flatMap(([name, unit, pick, digits]) => [
      metricOf({ mealpulse: foreground }, `foreground: ${name}`, unit, pick, digits),
      metricOf({ mealpulse: background }, `background: ${name}`, unit, pick, digits),
    ]),
    targets: [
      check(
        `commit → APNs request p99 < ${TARGET_PUSH_P99_MS} ms`,
        background.pushP99,
        background.pushP99 < TARGET_PUSH_P99_MS,
        1,
      ),
      check(
        'every notification pushed once (pushes ÷ posted, background)',
        background.pushes / Math.max(1, background.posted),
        background.pushes === background.posted && background.duplicatePushes === 0,
      ),
      check(
        'nothing pushed while every app acks in the foreground',
        foreground.pushes,
        foreground.pushes === 0,
        0,
      ),
      check(
        `socket p99 with pushes ≤ max(${SOCKET_P99_SLACK.ratio}×, +${SOCKET_P99_SLACK.ms} ms) of without`,
        background.socketP99 / foreground.socketP99,
        background.socketP99 <= socketBound,
      ),
      check(
        '0 lost on the socket',
        foreground.lost + background.lost,
        foreground.lost + background.lost === 0,
        0,
      ),
      check(
        'server CPU per push (µs, derived; informational)',
        pushCpu,
        Number.isFinite(pushCpu),
        0,
      ),
    ],
    notes: [
      `JOB_CONCURRENCY=${ENV.JOB_CONCURRENCY}; APNs is a local HTTP/2 peer in the orchestrator (TLS, ES256 provider token verified per request), answering 200 at once.`,
      'CPU per push = (CPU per meal log in the background phase − in the foreground phase) × meal logs ÷ pushes: the same posts, frames and acks, plus the pushes.',
    ],
  } satisfies WorkloadReport;
}
