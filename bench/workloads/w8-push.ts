import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Notification, Provider } from '@parse/node-apn';
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
  /** Of the server's pushes, the share APNs answered within 100 ms of falling due (its clock). */
  answeredWithin100Ms: number;
  /** The peer's own answer time to probe pushes sent straight to it meanwhile (background only). */
  peerP50: number;
  peerP99: number;
  cpuPerMealLogMicros: number;
}

/** Probe pushes per second sent straight to the peer: its answer time under the same load. */
const PROBE_RATE = 50;

/**
 * The floor under the push path here: the same client library sending straight to the same peer,
 * with nothing before the request (no commit, no claim), while the background phase runs.
 */
async function probePeer(
  env: Record<string, string>,
  durationMs: number,
): Promise<LatencyHistogram> {
  const url = new URL(env.APNS_URL);
  const provider = new Provider({
    token: { key: env.APNS_KEY_FILE, keyId: env.APNS_KEY_ID, teamId: env.APNS_TEAM_ID },
    address: url.host,
    port: Number(url.port),
    production: false,
    connectionRetryLimit: 0,
    ca: [await readFile(env.NODE_EXTRA_CA_CERTS)],
  });
  const histogram = new LatencyHistogram();
  const sends: Promise<void>[] = [];
  const started = performance.now();
  for (let sent = 0; performance.now() - started < durationMs;) {
    const due = Math.floor(((performance.now() - started) / 1000) * PROBE_RATE);
    for (; sent < due; sent++) {
      const notification = new Notification();
      notification.topic = env.APNS_TOPIC;
      notification.pushType = 'alert';
      notification.rawPayload = { aps: { alert: { title: 'probe', body: 'probe' } } };
      const at = performance.now();
      sends.push(
        provider.send(notification, 'f'.repeat(64)).then(() => {
          histogram.recordMillis(performance.now() - at);
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(sends);
  await new Promise<void>((resolve) => void provider.shutdown(resolve));
  return histogram;
}

/** The server's `mealpulse_push_delay_ms`: total pushes and those within 100 ms. */
async function serverPushDelays(
  server: ServerUnderTest,
): Promise<{ count: number; within100: number }> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const value = (prefix: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(prefix))
        ?.split(' ')
        .pop() ?? 0,
    );
  return {
    count: value('mealpulse_push_delay_ms_count'),
    within100: value('mealpulse_push_delay_ms_bucket{le="100"}'),
  };
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
): Promise<{ histogram: LatencyHistogram; pushes: number; duplicates: number; perSecond: number }> {
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
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const request of apns.requests.slice(fromRequest)) {
    const id = (request.payload as { mealLogId?: string } | undefined)?.mealLogId;
    const committed = id === undefined ? undefined : completedAt.get(id);
    if (request.status !== 200 || id === undefined || committed === undefined) continue;
    pushes++;
    first = Math.min(first, request.at);
    last = Math.max(last, request.at);
    if (seen.has(id)) duplicates++;
    else histogram.recordMillis(request.at - committed);
    seen.add(id);
  }
  return {
    histogram,
    pushes,
    duplicates,
    perSecond: pushes > 1 ? (pushes - 1) / ((last - first) / 1000) : 0,
  };
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
              const delaysBefore = await serverPushDelays(server);
              const probe =
                label === 'background' ? probePeer(apns.env, durationMs) : Promise.resolve(null);
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
              const peer = await probe;
              const delays = await serverPushDelays(server);
              const answered = delays.count - delaysBefore.count;
              return {
                peerP50: peer?.percentileMillis(50) ?? Number.NaN,
                peerP99: peer?.percentileMillis(99) ?? Number.NaN,
                answeredWithin100Ms:
                  answered === 0
                    ? Number.NaN
                    : (delays.within100 - delaysBefore.within100) / answered,
                posted: posted.accepted.length,
                lost: posted.accepted.filter((id) => !received.has(id)).length + posted.failed,
                socketP50: collected.latency.percentileMillis(50),
                socketP99: collected.latency.percentileMillis(99),
                pushes: push.pushes,
                pushesPerSecond: push.perSecond,
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
    ['pushes/s (first to last push)', '1/s', (p) => p.pushesPerSecond, 0],
    ['commit → APNs request p50', 'ms', (p) => p.pushP50, 1],
    ['commit → APNs request p99', 'ms', (p) => p.pushP99, 1],
    [
      'pushes APNs answered within 100 ms of falling due (server clock)',
      '%',
      (p) => 100 * p.answeredWithin100Ms,
      1,
    ],
    ['the peer alone: probe push → answer p50', 'ms', (p) => p.peerP50, 1],
    ['the peer alone: probe push → answer p99', 'ms', (p) => p.peerP99, 1],
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
      `JOB_CONCURRENCY=${ENV.JOB_CONCURRENCY}; APNs is a local HTTP/2 peer in the orchestrator (TLS; each provider token's ES256 signature verified once, its claims and age on every request), answering 200 at once.`,
      `The peer alone: the same client library sending ${PROBE_RATE} probe pushes/s straight to the peer from the orchestrator during the background phase, with nothing before the request: the floor a push's request → answer has under this load (the probes also add to it).`,
      'CPU per push = (CPU per meal log in the background phase − in the foreground phase) × meal logs ÷ pushes: the same posts, frames and acks, plus the pushes.',
    ],
  } satisfies WorkloadReport;
}
