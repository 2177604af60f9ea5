import { check, Metric, metricOf, ratio, WorkloadReport } from '../harness/report';
import type { ServerKind } from '../harness/server-kinds';
import { presenceOf } from '../harness/presence-check';
import { measured, withLoad, withServer } from '../harness/server-session';
import type { CollectResult, PingKind, PingResult } from '../load/load-messages';
import { openSessions } from './connect';
import { mergeCollects, mergePings } from './load-results';
import { durationMsFor, sessionsFor, Workload, WorkloadContext } from './workload';

const SERVERS: ServerKind[] = ['mealpulse', 'bare-ws', 'socketio'];

/**
 * Only pings are measured: no server heartbeat (its pongs would count as pings too), and
 * MealPulse's per-session rate limit raised out of the way (the limiter still runs).
 */
const ENV = { WS_HEARTBEAT_INTERVAL_MS: '3600000', WS_MAX_MESSAGES_PER_SECOND: '1000000' };

interface PingCase {
  label: string;
  sessions: number;
  inFlight: number;
}

interface PingMeasurement {
  pingsPerSecond: number;
  serverMicrosPerPing: number;
  rttP99: number;
}

type CaseResults = Record<string, Partial<Record<ServerKind, PingMeasurement>>>;

const caseKey = (c: PingCase, kind: PingKind) => `${c.label} ${kind}`;

/**
 * W2 ping hot path: closed-loop JSON pings and protocol pings, (a) few sessions with several
 * pings in flight, (b) many sessions with one each; then presence must hold every session with
 * exactly the pings that were sent.
 */
export const w2Ping: Workload = {
  name: 'w2',
  async run(context) {
    const durationMs = durationMsFor(context, 10, 1);
    const cases: PingCase[] = [
      { label: '(a) 200×8', sessions: context.options.quick ? 50 : 200, inFlight: 8 },
      { label: '(b) N×1', sessions: sessionsFor(context, 19_000, 300), inFlight: 1 },
    ];
    const results: CaseResults = {};
    const presenceErrors: string[] = [];
    for (const kind of SERVERS) {
      for (const pingCase of cases) {
        context.progress.update(
          `W2 pings: ${kind}, ${pingCase.label}, ${pingCase.sessions} sessions`,
        );
        const { measurements, presenceError } = await measureCase(
          context,
          kind,
          pingCase,
          durationMs,
        );
        for (const [pingKind, measurement] of Object.entries(measurements)) {
          (results[caseKey(pingCase, pingKind as PingKind)] ??= {})[kind] = measurement;
        }
        if (presenceError) presenceErrors.push(`${kind} ${pingCase.label}: ${presenceError}`);
      }
    }
    const metrics: Metric[] = [];
    const targets = [];
    for (const [key, byServer] of Object.entries(results)) {
      const rate = metricOf(byServer, `${key} pings/s`, '1/s', (m) => m.pingsPerSecond, 0);
      metrics.push(
        rate,
        metricOf(byServer, `${key} server CPU per ping`, 'µs', (m) => m.serverMicrosPerPing, 1),
        metricOf(byServer, `${key} RTT p99`, 'ms', (m) => m.rttP99, 2),
      );
      const json = key.endsWith('json');
      targets.push(
        check(
          `${key}: ≥ ${json ? 0.8 : 0.9}× bare ws`,
          ratio(rate, 'bare-ws'),
          ratio(rate, 'bare-ws') >= (json ? 0.8 : 0.9),
        ),
      );
      if (json)
        targets.push(
          check(`${key}: ≥ 1× Socket.IO`, ratio(rate, 'socketio'), ratio(rate, 'socketio') >= 1),
        );
    }
    targets.push(
      check(
        'presence holds every session and every answered ping (servers with errors)',
        presenceErrors.length,
        presenceErrors.length === 0,
        0,
      ),
    );
    return {
      id: 'W2',
      title: 'ping hot path',
      parameters: {
        'duration per case (s)': durationMs / 1000,
        sessions: cases.map((c) => c.sessions).join(' / '),
      },
      servers: SERVERS,
      metrics,
      targets,
      notes: [
        'Closed loop: each answer triggers the next ping, so pings/s is bounded by whichever side saturates first; server CPU per ping is the cost that does not depend on the client.',
        'Socket.IO has no client-initiated protocol ping (engine.io v4), so its protocol rows are n/a.',
        ...presenceErrors,
      ],
    } satisfies WorkloadReport;
  },
};

async function measureCase(
  context: WorkloadContext,
  kind: ServerKind,
  pingCase: PingCase,
  durationMs: number,
): Promise<{
  measurements: Partial<Record<PingKind, PingMeasurement>>;
  presenceError: string | null;
}> {
  const kinds: PingKind[] = kind === 'socketio' ? ['json'] : ['json', 'protocol'];
  return withServer(context, kind, ENV, (server) =>
    withLoad(pingCase.sessions, async (pool) => {
      await openSessions(pool, server);
      const measurements: Partial<Record<PingKind, PingMeasurement>> = {};
      for (const pingKind of kinds) {
        const run = await measured(
          context,
          server,
          `w2-${pingCase.sessions}x${pingCase.inFlight}-${pingKind}`,
          async () =>
            mergePings(
              (await pool.all(
                { cmd: 'ping', kind: pingKind, inFlight: pingCase.inFlight, durationMs },
                durationMs + 60_000,
              )) as PingResult[],
            ),
        );
        measurements[pingKind] = {
          pingsPerSecond: run.result.completed / (run.result.elapsedMs / 1000),
          serverMicrosPerPing: run.cpuMicros / run.result.completed,
          rttP99: run.result.rtt.percentileMillis(99),
        };
      }
      const { pingsSent: sent, pingsAnswered: answered } = mergeCollects(
        (await pool.all({ cmd: 'collect' }, 30_000)) as CollectResult[],
      );
      const presence = await presenceOf(server);
      const problems = [];
      if (presence.sessions !== pingCase.sessions)
        problems.push(`${presence.sessions} sessions, expected ${pingCase.sessions}`);
      // The clients' pings only: pongs to the server's own heartbeat (spread over the hour this
      // workload sets, some shards still fall due) count as signs of life too. A ping whose pong
      // came back was surely counted; one still unanswered when the window closed (a dropped
      // connection, the drain's deadline) may or may not have reached the server: that is the
      // harness's edge, not a presence error.
      const counted = presence.pings - presence.pongs;
      if (counted < answered || counted > sent)
        problems.push(
          `${counted} client pings counted (and ${presence.pongs} heartbeat pongs), ${answered} answered of ${sent} sent`,
        );
      return { measurements, presenceError: problems.length > 0 ? problems.join('; ') : null };
    }),
  );
}
