import type { WorkloadReport } from '../harness/report';
import { Assumptions, DEFAULT_ASSUMPTIONS, MeasuredFigures, planCapacity } from './capacity.model';
import { findFigures, ResultFile } from './measured-figures';

/** Round figures, so that every expected value below can be checked by hand. */
const FIGURES: MeasuredFigures = {
  rssPerSessionKiB: 10,
  baseRssMiB: 100,
  idleCpuPerSessionMicrosPerSecond: 2,
  cpuPerProtocolPingMicros: 15,
  cpuPerJsonPingMicros: 30,
  cpuPerPostMicros: 800,
  cpuPerMealLogFirstSessionMicros: 600,
  cpuPerMealLogOtherSessionMicros: 400,
  redisLeasesPerFrame: 1,
  redisReadsPerNotification: 2,
  redisMessagesPerNotificationOneTarget: 0.1,
  redisCpuPerCommandMicros: 6,
  pgTransactionsPerMealLog: 4,
  pgRowsWrittenPerMealLog: 6,
  pgCpuPerMealLogMicros: 300,
  walBytesPerMealLog: 3000,
  auditRowsPerSessionPerMinute: 2,
  pgTransactionsPerAuditRow: 0.01,
  walBytesPerAuditRow: 200,
  pgCpuPerAuditRowMicros: 20,
  mealLogBytesPerRow: 500,
  notificationBytesPerRow: 600,
  sessionAuditBytesPerRow: 400,
};

/** 86,400 users logging 10 meals a day: 10 meal logs/s on average, 30/s at the 3× peak. */
const BASE: Assumptions = { ...DEFAULT_ASSUMPTIONS, users: 86_400, mealsPerUserPerDay: 10 };

describe('planCapacity', () => {
  const plan = planCapacity(FIGURES, BASE);

  it.each<[string, number, number]>([
    ['concurrent sessions', plan.sessions, 129_600],
    ['meal logs/s at peak', plan.mealLogsPerSecondPeak, 30],
    // 129,600 sessions × (1/30 pings + 1/30 pongs) + 30 meal logs × 1.5 acks
    ['inbound frames/s', plan.inboundFramesPerSecond, 8_685],
    // max(W1's 2 µs/s, 2/30 frames × 15 µs = 1 µs/s)
    ['server CPU per session (µs/s)', plan.cpu.perSessionMicrosPerSecond, 2],
    ['server CPU per session from pings (µs/s)', plan.cpu.perSessionFromPingsMicrosPerSecond, 1],
    // 800 POST + 600 first session + 0.5 × 400 further session
    ['server CPU per meal log (µs)', plan.cpu.perMealLogMicros, 1_600],
    ['cores for sessions', plan.cpu.sessionsCores, 0.2592],
    ['cores for meal logs', plan.cpu.mealLogsCores, 0.048],
    ['instances needed', plan.instances.needed, 1],
    ['Redis lease calls/s', plan.redis.leasesPerSecond, 8_685],
    ['Redis reads/s', plan.redis.readsPerSecond, 60],
    // at scale one message per further session: 0.5 per notification, above the measured 0.1
    ['Redis messages/s', plan.redis.messagesPerSecond, 15],
    ['Redis commands/s', plan.redis.commandsPerSecond, 8_760],
    ['Redis commands/s per core at 60 %', plan.redis.commandsPerSecondPerCore, 100_000],
    // opens and ends: 2 × 129,600 / 3,600 s; activity: 129,600 × 2 / 60 s
    ['audit rows/s', plan.postgres.auditRowsPerSecond, 72 + 4_320],
    ['PostgreSQL transactions/s', plan.postgres.transactionsPerSecond, 120 + 43.92],
    ['PostgreSQL CPU cores', plan.postgres.cpuCores, 0.009 + 0.08784],
    ['PostgreSQL connections', plan.postgres.connections, 20],
    ['WAL per day', plan.storage.walBytesPerDay, 864_000 * 3_000 + 4_392 * 86_400 * 200],
    ['meal_logs bytes per day', plan.storage.mealLogBytesPerDay, 864_000 * 500],
    ['notifications at 30 days', plan.storage.notificationBytesAtRetention, 864_000 * 600 * 30],
    // 129,600 sessions opened per hour-long lifetime, 24 a day, kept 90 days
    ['ws_sessions at 90 days', plan.storage.sessionAuditBytesAtRetention, 3_110_400 * 400 * 90],
  ])('%s', (_, actual, expected) => {
    expect(actual).toBeCloseTo(expected, 6);
  });

  it.each<[string, Partial<Assumptions>, Partial<MeasuredFigures>, string]>([
    // 20 connections per instance reach max_connections 100 at 5 instances
    ['few connections allowed', {}, {}, 'PostgreSQL connections'],
    ['connections plentiful', { postgresMaxConnections: 10_000 }, {}, 'Redis'],
    [
      'Redis cheap too',
      { postgresMaxConnections: 10_000 },
      { redisCpuPerCommandMicros: 0.5 },
      'PostgreSQL primary CPU',
    ],
    [
      'Redis not measured: the bottleneck is found among the rest',
      { postgresMaxConnections: 10_000 },
      { redisCpuPerCommandMicros: Number.NaN },
      'PostgreSQL primary CPU',
    ],
  ])('first bottleneck when %s', (_, assumptions, figures, resource) => {
    const planned = planCapacity({ ...FIGURES, ...figures }, { ...BASE, ...assumptions });
    expect(planned.firstBottleneck?.resource).toMatch(new RegExp(`^${resource}`));
    const least = Math.min(
      ...planned.saturations.map((s) => s.usersAtCapacity).filter(Number.isFinite),
    );
    expect(planned.firstBottleneck?.usersAtCapacity).toBe(least);
  });

  it('puts the bottleneck where its load meets its capacity', () => {
    const redis = plan.saturations.find((s) => s.resource.startsWith('Redis'))!;
    expect(redis.utilisation).toBeCloseTo(0.0876, 6);
    const atCapacity = planCapacity(FIGURES, { ...BASE, users: redis.usersAtCapacity });
    expect(atCapacity.redis.commandsPerSecond).toBeCloseTo(100_000, 3);
  });
});

describe('findFigures', () => {
  const report = (id: string, metrics: Record<string, number | null>, sessions = 0) =>
    ({
      id,
      title: id,
      parameters: { sessions },
      servers: ['mealpulse'],
      metrics: Object.entries(metrics).map(([name, value]) => ({
        name,
        unit: '',
        values: { mealpulse: value as number },
      })),
      targets: [],
      notes: [],
    }) satisfies WorkloadReport;
  const file = (name: string, quick: boolean, reports: WorkloadReport[]): ResultFile => ({
    name: `${name}.json`,
    startedAt: name,
    options: { quick },
    reports,
  });
  const files = [
    file('2026-01-01', false, [
      report(
        'W1',
        { 'RSS per session': 9, 'server CPU while idle': 5.7, 'RSS before sessions': 100 },
        19_000,
      ),
      report('W2', { '(b) N×1 json server CPU per ping': 40 }),
      report('W4', { 'POST natural server CPU per request': 900 }),
    ]),
    file('2026-01-03', true, [report('W4', { 'POST natural server CPU per request': 1 })]),
    file('2026-01-02', false, [
      report(
        'W1',
        { 'RSS per session': 11, 'server CPU while idle': 9, 'RSS before sessions': 120 },
        5_000,
      ),
      report('W2', { '(b) N×1 json server CPU per ping': null }),
    ]),
  ];
  const { figures, sources } = findFigures(files);

  it.each<[string, keyof MeasuredFigures, number, string]>([
    ['the newest file that holds the figure', 'baseRssMiB', 120, '2026-01-02.json'],
    ['an older file when the newest has it n/a', 'cpuPerJsonPingMicros', 40, '2026-01-01.json'],
    ['never a quick run', 'cpuPerPostMicros', 900, '2026-01-01.json'],
    // a per-session figure from the run with the most sessions, though an older one
    ['the biggest run for a per-session figure', 'rssPerSessionKiB', 9, '2026-01-01.json'],
    // 5.7 % of a core × 10^4 = 57,000 µs per second, over 19,000 sessions
    [
      'a derived figure in the model’s unit',
      'idleCpuPerSessionMicrosPerSecond',
      3,
      '2026-01-01.json',
    ],
  ])('takes %s', (_, name, value, fileName) => {
    expect(figures[name]).toBeCloseTo(value, 6);
    expect(sources[name]?.file).toBe(fileName);
    expect(sources[name]?.value).toBe(figures[name]);
  });

  it('leaves a figure no file holds as not measured', () => {
    expect(figures.redisCpuPerCommandMicros).toBeNaN();
    expect(sources.redisCpuPerCommandMicros).toBeNull();
  });
});
