import { check, metricOf, ratio, WorkloadReport } from '../harness/report';
import type { ServerKind } from '../harness/server-kinds';
import { measured, withLoad, withServer } from '../harness/server-session';
import type { ReconnectResult } from '../load/load-messages';
import { openSessions } from './connect';
import { sessionsFor, Workload, WorkloadContext } from './workload';

const SERVERS: ServerKind[] = ['mealpulse', 'bare-ws', 'socketio'];
/** Handshakes in flight per load worker while measuring the handshake rate. */
const HANDSHAKE_CONCURRENCY = 128;
const RECONNECT_TIMEOUT_MS = 120_000;

interface StormMeasurement {
  handshakesPerSecond: number;
  serverMicrosPerHandshake: number;
  restartSeconds: number;
  allBackSeconds: number;
  failedUpgrades: number;
  refused: number;
  failureReasons: string;
  failedAgainstTheOldServer: number;
}

/**
 * W5 reconnect storm: N sessions open as fast as the server takes them (the handshake rate, JWT
 * verification included); then the server is killed (SIGKILL) and started again, and every
 * client reconnects with the documented full-jitter back-off.
 */
export const w5Reconnect: Workload = {
  name: 'w5',
  async run(context) {
    const sessions = sessionsFor(context, 19_000, 300);
    const results: Partial<Record<ServerKind, StormMeasurement>> = {};
    for (const kind of SERVERS) {
      context.progress.update(`W5 reconnect storm: ${kind}, ${sessions} sessions`);
      results[kind] = await measureStorm(context, kind, sessions);
    }
    const rate = metricOf(results, 'handshake rate', '1/s', (m) => m.handshakesPerSecond, 0);
    const allBack = metricOf(
      results,
      'listening until all registered',
      's',
      (m) => m.allBackSeconds,
      2,
    );
    const mine = results.mealpulse!;
    return {
      id: 'W5',
      title: 'reconnect storm',
      parameters: { sessions, 'handshakes in flight per load worker': HANDSHAKE_CONCURRENCY },
      servers: SERVERS,
      metrics: [
        rate,
        metricOf(results, 'server CPU per handshake', 'µs', (m) => m.serverMicrosPerHandshake, 0),
        metricOf(results, 'restart until listening', 's', (m) => m.restartSeconds, 2),
        allBack,
        metricOf(results, 'failed upgrades', 'count', (m) => m.failedUpgrades, 0),
        metricOf(results, 'refused while down (expected)', 'count', (m) => m.refused, 0),
        metricOf(
          results,
          'reset by the killed server (expected)',
          'count',
          (m) => m.failedAgainstTheOldServer,
          0,
        ),
      ],
      targets: [
        check(
          'listening until all registered ≤ 1.5× bare ws',
          ratio(allBack, 'bare-ws'),
          ratio(allBack, 'bare-ws') <= 1.5,
        ),
        check(
          'listening until all registered < Socket.IO',
          ratio(allBack, 'socketio'),
          ratio(allBack, 'socketio') < 1,
        ),
        check('0 failed upgrades', mine.failedUpgrades, mine.failedUpgrades === 0, 0),
      ],
      notes: [
        ...Object.entries(results).map(
          ([kind, m]) => `${kind} failed upgrades by reason: ${m.failureReasons}`,
        ),
        'Back-off: delay = random(0, min(30 s, 0.5 s × 2^attempt)), reset on welcome (docs/websocket-protocol.md).',
      ],
    } satisfies WorkloadReport;
  },
};

async function measureStorm(
  context: WorkloadContext,
  kind: ServerKind,
  sessions: number,
): Promise<StormMeasurement> {
  return withServer(context, kind, {}, (server) =>
    withLoad(sessions, async (pool) => {
      const opening = await measured(context, server, 'w5-handshakes', () =>
        openSessions(pool, server, { concurrency: HANDSHAKE_CONCURRENCY, reconnect: true }),
      );
      const opened = opening.result;
      const killedAt = performance.now();
      await server.kill();
      const since = Date.now();
      await server.launch();
      const restartSeconds = (performance.now() - killedAt) / 1000;
      const storm = (await pool.all(
        { cmd: 'await-welcomed', timeoutMs: RECONNECT_TIMEOUT_MS, since },
        RECONNECT_TIMEOUT_MS + 30_000,
      )) as ReconnectResult[];
      const welcomed = storm.reduce((sum, r) => sum + r.welcomed, 0);
      if (welcomed < sessions) {
        throw new Error(`${server.label}: only ${welcomed} of ${sessions} sessions came back`);
      }
      return {
        handshakesPerSecond: opened.opened / (opened.elapsedMs / 1000),
        serverMicrosPerHandshake: opening.cpuMicros / opened.opened,
        failureReasons: storm.map((r) => JSON.stringify(r.failureReasons)).join(' '),
        restartSeconds,
        allBackSeconds: Math.max(...storm.map((r) => r.elapsedMs)) / 1000,
        failedUpgrades: storm.reduce((sum, r) => sum + r.failedUpgrades, 0),
        refused: storm.reduce((sum, r) => sum + r.refused, 0),
        failedAgainstTheOldServer: storm.reduce((sum, r) => sum + r.failedAgainstTheOldServer, 0),
      };
    }),
  );
}
