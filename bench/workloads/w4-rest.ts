import autocannon from 'autocannon';
import { sign } from 'jsonwebtoken';
import { check, Metric, metricOf, ratio, WorkloadReport } from '../harness/report';
import type { ServerKind } from '../harness/server-kinds';
import { BENCH_JWT_SECRET } from '../harness/server-under-test';
import { measured, withServer } from '../harness/server-session';
import { durationMsFor, Workload, WorkloadContext } from './workload';

const SERVERS: ServerKind[] = ['mealpulse', 'bare-http'];
/** The REST API alone: no worker analysing the posted logs (the reference has none either). */
const ENV = { JOB_CONCURRENCY: '0' };
const CONNECTIONS = 32;
/**
 * POSTs go round this many users, each staying far below MEAL_LOGS_PER_MINUTE (60) at any rate
 * the machine reaches, so every POST is a new log that pays for the limit's count.
 */
const POSTING_USERS = 2_000;
const BODY = JSON.stringify({ text: '1 small apple and 2 eggs', mealType: 'breakfast' });

type Scenario = 'POST natural' | 'GET :id' | 'GET :id If-None-Match';
const SCENARIOS: Scenario[] = ['POST natural', 'GET :id', 'GET :id If-None-Match'];

interface RestMeasurement {
  requestsPerSecond: number;
  p99: number;
  serverMicrosPerRequest: number;
  unexpected: number;
}

/** W4 REST under autocannon: MealPulse against bare node:http + pg doing the same statements. */
export const w4Rest: Workload = {
  name: 'w4',
  async run(context) {
    const durationMs = durationMsFor(context, 10, 1);
    const results: Partial<Record<Scenario, Partial<Record<ServerKind, RestMeasurement>>>> = {};
    for (const kind of SERVERS) {
      context.progress.update(`W4 REST: ${kind}`);
      const measurements = await measureRest(context, kind, durationMs);
      for (const scenario of SCENARIOS) (results[scenario] ??= {})[kind] = measurements[scenario];
    }
    const metrics: Metric[] = [];
    const targets = [];
    for (const scenario of SCENARIOS) {
      const byServer = results[scenario]!;
      const rate = metricOf(
        byServer,
        `${scenario} requests/s`,
        '1/s',
        (m) => m.requestsPerSecond,
        0,
      );
      const cpu = metricOf(
        byServer,
        `${scenario} server CPU per request`,
        'µs',
        (m) => m.serverMicrosPerRequest,
        0,
      );
      metrics.push(
        rate,
        metricOf(byServer, `${scenario} p99`, 'ms', (m) => m.p99, 1),
        cpu,
        metricOf(byServer, `${scenario} unexpected statuses`, 'count', (m) => m.unexpected, 0),
      );
      targets.push(
        check(
          `${scenario}: ≥ 0.6× node:http + pg`,
          ratio(rate, 'bare-http'),
          ratio(rate, 'bare-http') >= 0.6,
        ),
        check(
          `${scenario}: CPU per request ≤ 2× node:http + pg`,
          ratio(cpu, 'bare-http'),
          ratio(cpu, 'bare-http') <= 2,
        ),
      );
    }
    return {
      id: 'W4',
      title: 'REST',
      parameters: { connections: CONNECTIONS, 'duration per scenario (s)': durationMs / 1000 },
      servers: SERVERS,
      metrics,
      targets,
      notes: ['MealPulse runs with JOB_CONCURRENCY=0 here, so only the API is measured.'],
    } satisfies WorkloadReport;
  },
};

async function measureRest(
  context: WorkloadContext,
  kind: ServerKind,
  durationMs: number,
): Promise<Record<Scenario, RestMeasurement>> {
  return withServer(context, kind, ENV, async (server) => {
    const bearer = (sub: string) =>
      `Bearer ${sign({ sub }, BENCH_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })}`;
    const authorization = bearer('bench-rest');
    const headers = { authorization, 'content-type': 'application/json' };
    const posters = Array.from({ length: POSTING_USERS }, (_, i) => bearer(`bench-rest-${i}`));
    let nextPoster = 0;
    const created = await fetch(`${server.baseUrl}/api/v1/meal-logs/natural`, {
      method: 'POST',
      headers,
      body: BODY,
    });
    const { id } = (await created.json()) as { id: string };
    const etag =
      (await fetch(`${server.baseUrl}/api/v1/meal-logs/${id}`, { headers })).headers.get('etag') ??
      '';
    const requests: Record<Scenario, { expected: number; options: Partial<autocannon.Options> }> = {
      'POST natural': {
        expected: 201,
        options: {
          method: 'POST',
          url: `${server.baseUrl}/api/v1/meal-logs/natural`,
          body: BODY,
          headers,
          requests: [
            {
              setupRequest: (request) => {
                nextPoster = (nextPoster + 1) % POSTING_USERS;
                const authorization = posters[nextPoster];
                return { ...request, headers: { ...request.headers, authorization } };
              },
            },
          ],
        },
      },
      'GET :id': {
        expected: 200,
        options: { url: `${server.baseUrl}/api/v1/meal-logs/${id}`, headers },
      },
      'GET :id If-None-Match': {
        expected: 304,
        options: {
          url: `${server.baseUrl}/api/v1/meal-logs/${id}`,
          headers: { ...headers, 'if-none-match': etag },
        },
      },
    };
    const measurements = {} as Record<Scenario, RestMeasurement>;
    for (const scenario of SCENARIOS) {
      const { expected, options } = requests[scenario];
      const run = await measured(context, server, `w4-${scenario.replace(/\W+/g, '-')}`, () =>
        autocannon({
          ...options,
          url: options.url!,
          connections: CONNECTIONS,
          duration: durationMs / 1000,
        }),
      );
      const result = run.result;
      const statuses = (result.statusCodeStats ?? {}) as Record<string, { count: number }>;
      const matching = statuses[String(expected)]?.count ?? 0;
      measurements[scenario] = {
        requestsPerSecond: result.requests.average,
        p99: result.latency.p99,
        serverMicrosPerRequest: run.cpuMicros / Math.max(1, result.requests.total),
        unexpected: result.requests.total - matching + result.errors,
      };
    }
    return measurements;
  });
}
