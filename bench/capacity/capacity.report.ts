import type { Assumptions, CapacityPlan, FigureName } from './capacity.model';
import type { FoundFigure } from './measured-figures';

function number(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'not measured';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function bytes(value: number): string {
  if (!Number.isFinite(value)) return 'not measured';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${number(scaled, scaled < 10 ? 2 : 1)} ${units[unit]}`;
}

/** `align`: `r` for a right-aligned (numeric) column, `l` for text. */
function table(header: string[], align: string, rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (align[i] === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

/** The figures, the plan and its saturation points as Markdown, as docs/scale-out.md quotes it. */
export function renderPlan(
  plan: CapacityPlan,
  assumptions: Assumptions,
  sources: Record<FigureName, FoundFigure | null>,
): string {
  const a = assumptions;
  const figureRows = (Object.entries(sources) as [FigureName, FoundFigure | null][]).map(
    ([name, found]) => [
      name,
      found ? number(found.value, found.value < 10 ? 2 : 0) : 'not measured',
      found ? `${found.source.workload} “${found.source.metric}”, ${found.file}` : '-',
    ],
  );
  const s = plan.storage;
  const planRows: string[][] = [
    ['concurrent sessions', number(plan.sessions), `${number(a.sessionsPerUser, 1)} per user`],
    [
      'meal logs/s (average / peak)',
      `${number(plan.mealLogsPerSecondAverage, 1)} / ${number(plan.mealLogsPerSecondPeak, 1)}`,
      `${a.mealsPerUserPerDay} a day per user, peak ${a.peakFactor}× the average`,
    ],
    [
      'inbound frames/s',
      number(plan.inboundFramesPerSecond),
      `a ping every ${a.clientPingIntervalS} s and a heartbeat pong every ${a.heartbeatIntervalS} s per session, an ack per session per notification`,
    ],
    [
      'server CPU per session (µs/s)',
      number(plan.cpu.perSessionMicrosPerSecond, 2),
      `the larger of W1's idle CPU per session and pings × W2's cost (${number(plan.cpu.perSessionFromPingsMicrosPerSecond, 2)})`,
    ],
    [
      'server CPU per meal log (µs)',
      number(plan.cpu.perMealLogMicros),
      `POST (W4) + worker and first session (W7 A) + ${number(a.sessionsPerUser - 1, 1)} × further session (W7 B)`,
    ],
    [
      'instance cores busy (sessions + meal logs at peak)',
      `${number(plan.cpu.sessionsCores, 1)} + ${number(plan.cpu.mealLogsCores, 1)}`,
      'one instance is one Node process on one core',
    ],
    [
      'instances by CPU',
      number(plan.instances.byCpu),
      `at ${number(a.targetCpuUtilisation * 100)} % of a core`,
    ],
    [
      'instances by memory',
      number(plan.instances.byMemory),
      `${a.instanceMemoryMib} MiB each, ${number(a.targetMemoryUtilisation * 100)} % used, less the RSS before sessions`,
    ],
    [
      '**instances needed**',
      `**${number(plan.instances.needed)}**`,
      `${number(plan.instances.sessionsPerInstance)} sessions each`,
    ],
    [
      'Redis lease calls/s',
      number(plan.redis.leasesPerSecond),
      'inbound frames × lease calls per frame (an upper bound: calls coalesce per flush interval)',
    ],
    ['Redis placement reads/s', number(plan.redis.readsPerSecond), 'peak meal logs × reads'],
    [
      'Redis messages/s',
      number(plan.redis.messagesPerSecond),
      "peak meal logs × one per user's further session (other instances at scale)",
    ],
    [
      '**Redis commands/s**',
      `**${number(plan.redis.commandsPerSecond)}**`,
      `one core carries ${number(plan.redis.commandsPerSecondPerCore)} at ${number(a.targetCpuUtilisation * 100)} %: ${number(plan.redis.coresNeeded)} core(s)`,
    ],
    [
      'PostgreSQL transactions/s',
      number(plan.postgres.transactionsPerSecond),
      'peak meal logs × transactions per meal log + audit rows × transactions per audit row',
    ],
    [
      'PostgreSQL rows written/s (meal logs + session audit)',
      `${number(plan.postgres.mealLogRowsPerSecond)} + ${number(plan.postgres.auditRowsPerSecond)}`,
      `audit: open and end per ${a.sessionLifetimeMinutes}-minute session, and its activity (W1)`,
    ],
    [
      'PostgreSQL CPU, cores (meal logs at peak + session audit)',
      `${number(plan.postgres.mealLogCpuCores, 2)} + ${number(plan.postgres.auditCpuCores, 2)}`,
      'rates × PostgreSQL CPU per meal log (W3) and per audit row (W1)',
    ],
    [
      'PostgreSQL connections',
      number(plan.postgres.connections),
      `${a.poolSizePerInstance} per instance`,
    ],
    [
      'WAL per day',
      bytes(s.walBytesPerDay),
      'meal logs a day × WAL per meal log + audit rows a day × WAL per audit row',
    ],
    [
      'meal_logs growth',
      `${bytes(s.mealLogBytesPerDay)}/day`,
      `${bytes(s.mealLogBytesAtHorizon)} after ${a.mealLogHorizonDays} days (kept)`,
    ],
    [
      'notifications growth',
      `${bytes(s.notificationBytesPerDay)}/day`,
      `${bytes(s.notificationBytesAtRetention)} at ${a.notificationRetentionDays} days' retention`,
    ],
    [
      'ws_sessions (audit) growth',
      `${bytes(s.sessionAuditBytesPerDay)}/day`,
      `${bytes(s.sessionAuditBytesAtRetention)} at ${a.sessionAuditRetentionDays} days' retention`,
    ],
  ];
  const saturationRows = plan.saturations.map((sat) => [
    sat.resource,
    `${number(sat.utilisation * 100)} %`,
    number(sat.usersAtCapacity),
  ]);
  const first = plan.firstBottleneck;
  return [
    '#### Measured figures',
    '',
    ...table(['figure', 'value', 'from'], 'lrl', figureRows),
    '',
    `#### ${number(a.users)} concurrent users`,
    '',
    ...table(['quantity', 'value', 'how'], 'lrl', planRows),
    '',
    '#### Shared resources (instances scale out; these do not)',
    '',
    ...table(
      ['resource', `load ÷ capacity at ${number(a.users)} users`, 'users at capacity'],
      'lrr',
      saturationRows,
    ),
    '',
    first
      ? `First bottleneck: **${first.resource}**, at ${number(first.usersAtCapacity)} users.`
      : 'First bottleneck: not computable, figures missing.',
    '',
  ].join('\n');
}
