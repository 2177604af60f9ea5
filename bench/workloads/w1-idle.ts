import type { HeartbeatResult, CollectResult } from '../load/load-messages';
import { DatabaseActivityWindow, sessionAuditActivityMetrics } from '../harness/database-activity';
import { check, Metric, metricOf, ratio, WorkloadReport } from '../harness/report';
import type { ServerKind } from '../harness/server-kinds';
import { measured, withLoad, withServer } from '../harness/server-session';
import { openSessions } from './connect';
import { mergeCollects, mergePings } from './load-results';
import { durationMsFor, sessionsFor, Workload, WorkloadContext } from './workload';

const SERVERS: ServerKind[] = ['mealpulse', 'bare-ws', 'socketio'];
const KIB = 1024;
/**
 * MealPulse's RSS per session in the run the targets were last met on (2026-11-22T01-10-10.json):
 * issue 18 lets it grow by no more than GROWTH_ALLOWED.
 */
const RSS_PER_SESSION_KIB_MET = 10.6;
const GROWTH_ALLOWED = 0.1;

interface IdleMeasurement {
  rssPerSession: number;
  heapPerSession: number;
  heapCommittedPerSession: number;
  youngGenerationPerSession: number;
  externalPerSession: number;
  cpuPercent: number;
  rttP99: number;
  wronglySwept: number;
  baseRssMiB: number;
  /** What the session audit wrote meanwhile (MealPulse: the references keep no audit). */
  audit: Metric[];
}

/**
 * W1 idle capacity: N authenticated sessions that only ping (protocol pings where the wire has
 * them), as phones in a pocket do. Memory per session is measured after a forced GC, against the
 * idle server's own baseline.
 */
export const w1Idle: Workload = {
  name: 'w1',
  async run(context) {
    const sessions = sessionsFor(context, 19_000, 300);
    const pingIntervalMs = context.options.quick ? 1_000 : 30_000;
    const durationMs = durationMsFor(context, 60, 1);
    const results: Partial<Record<ServerKind, IdleMeasurement>> = {};
    for (const kind of SERVERS) {
      context.progress.update(`W1 idle: ${kind}, ${sessions} sessions`);
      results[kind] = await measureIdle(context, kind, sessions, pingIntervalMs, durationMs);
    }
    const metric = (name: string, unit: string, pick: (m: IdleMeasurement) => number, digits = 1) =>
      metricOf(results, name, unit, pick, digits);
    const rss = metric('RSS per session', 'KiB', (m) => m.rssPerSession);
    const heap = metric('heap per session', 'KiB', (m) => m.heapPerSession);
    // Where RSS per session goes besides live objects: heap V8 keeps but does not use, and
    // memory outside the heap held by JavaScript objects (buffers). The rest is native.
    const heapCommitted = metric(
      'V8 heap committed per session',
      'KiB',
      (m) => m.heapCommittedPerSession,
    );
    const youngGeneration = metric(
      'of which V8 young generation',
      'KiB',
      (m) => m.youngGenerationPerSession,
    );
    const external = metric('external per session', 'KiB', (m) => m.externalPerSession);
    const wronglySwept = results.mealpulse?.wronglySwept ?? Number.NaN;
    return {
      id: 'W1',
      title: 'idle capacity',
      parameters: {
        sessions,
        'ping interval (ms)': pingIntervalMs,
        'duration (s)': durationMs / 1000,
      },
      servers: SERVERS,
      metrics: [
        rss,
        heap,
        heapCommitted,
        youngGeneration,
        external,
        metric('server CPU while idle', '% of a core', (m) => m.cpuPercent, 2),
        metric('ping RTT p99', 'ms', (m) => m.rttP99, 2),
        metric('sessions wrongly swept', 'count', (m) => m.wronglySwept, 0),
        metric('RSS before sessions', 'MiB', (m) => m.baseRssMiB),
        ...(results.mealpulse?.audit ?? []),
      ],
      targets: [
        check('RSS per session ≤ 2× bare ws', ratio(rss, 'bare-ws'), ratio(rss, 'bare-ws') <= 2),
        check(
          'RSS per session ≤ 0.6× Socket.IO',
          ratio(rss, 'socketio'),
          ratio(rss, 'socketio') <= 0.6,
        ),
        check('0 sessions wrongly swept', wronglySwept, wronglySwept === 0, 0),
        check(
          `RSS per session grown ≤ ${100 * GROWTH_ALLOWED} % over ${RSS_PER_SESSION_KIB_MET} KiB (2026-11-22T01-10-10.json), in KiB`,
          rss.values.mealpulse ?? Number.NaN,
          (rss.values.mealpulse ?? Number.NaN) <= RSS_PER_SESSION_KIB_MET * (1 + GROWTH_ALLOWED),
          1,
        ),
      ],
      notes: [
        'Socket.IO clients cannot send protocol pings (engine.io v4 pings only from the server), so its RTT is that of a JSON ping.',
      ],
    } satisfies WorkloadReport;
  },
};

async function measureIdle(
  context: WorkloadContext,
  kind: ServerKind,
  sessions: number,
  pingIntervalMs: number,
  durationMs: number,
): Promise<IdleMeasurement> {
  return withServer(context, kind, {}, (server, databaseUrl) =>
    withLoad(sessions, async (pool) => {
      const baseline = await server.memory();
      await openSessions(pool, server);
      const audit = databaseUrl
        ? await DatabaseActivityWindow.open(databaseUrl, ['ws_sessions'], context.options)
        : null;
      const idle = await measured(context, server, 'w1-idle', async () =>
        mergePings(
          (await pool.all(
            { cmd: 'heartbeat', intervalMs: pingIntervalMs, durationMs, silentEvery: 0 },
            durationMs + 60_000,
          )) as HeartbeatResult[],
        ),
      );
      const loaded = await server.memory();
      const auditMetrics = audit ? sessionAuditActivityMetrics(await audit.end(), sessions) : [];
      const collected = mergeCollects(
        (await pool.all({ cmd: 'collect' }, 30_000)) as CollectResult[],
      );
      return {
        rssPerSession: (loaded.rssBytes - baseline.rssBytes) / sessions / KIB,
        heapPerSession: (loaded.heapUsedBytes - baseline.heapUsedBytes) / sessions / KIB,
        heapCommittedPerSession: (loaded.heapTotalBytes - baseline.heapTotalBytes) / sessions / KIB,
        youngGenerationPerSession:
          (loaded.youngGenerationBytes - baseline.youngGenerationBytes) / sessions / KIB,
        externalPerSession: (loaded.externalBytes - baseline.externalBytes) / sessions / KIB,
        cpuPercent: (100 * idle.cpuMicros) / (idle.elapsedMs * 1000),
        rttP99: idle.result.rtt.percentileMillis(99),
        wronglySwept: collected.wronglySwept,
        baseRssMiB: baseline.rssBytes / KIB / KIB,
        audit: auditMetrics,
      };
    }),
  );
}
