/**
 * The capacity model: from what one session, ping, meal log and Redis command measurably cost,
 * what a given population needs. Pure arithmetic; `bench/capacity.ts` feeds it the newest
 * result files and prints it.
 */

/** The measured figures the model needs; NaN for one no result file holds yet. */
export interface MeasuredFigures {
  /** W1: RSS per idle session (KiB). */
  rssPerSessionKiB: number;
  /** W1: RSS of an instance before its sessions (MiB). */
  baseRssMiB: number;
  /** W1: server CPU of an idle session, its pings and the heartbeat included (µs per second). */
  idleCpuPerSessionMicrosPerSecond: number;
  /** W2 (b), one ping per session: server CPU per protocol ping (µs). */
  cpuPerProtocolPingMicros: number;
  /** W2 (b): server CPU per `{"type":"ping"}` (µs). */
  cpuPerJsonPingMicros: number;
  /** W4: server CPU per `POST /api/v1/meal-logs/natural`, workers off (µs). */
  cpuPerPostMicros: number;
  /** W7 A: worker, completion, delivery to the user's session there and its ack (µs). */
  cpuPerMealLogFirstSessionMicros: number;
  /** W7 B: delivery to a further session on another instance, through Redis, and its ack (µs). */
  cpuPerMealLogOtherSessionMicros: number;
  /** W7: Redis lease script calls per inbound frame (ping, pong, ack). */
  redisLeasesPerFrame: number;
  /** W7: Redis placement reads per notification. */
  redisReadsPerNotification: number;
  /** W7: Redis messages per notification, all of a group's users' other sessions on one instance. */
  redisMessagesPerNotificationOneTarget: number;
  /** W7: Redis main-thread CPU per command (µs). */
  redisCpuPerCommandMicros: number;
  /** W3: PostgreSQL transactions per meal log (POST to ack). */
  pgTransactionsPerMealLog: number;
  /** W3: rows inserted + updated + deleted per meal log. */
  pgRowsWrittenPerMealLog: number;
  /** W3: PostgreSQL CPU per meal log (µs). */
  pgCpuPerMealLogMicros: number;
  /** W3: WAL bytes per meal log. */
  walBytesPerMealLog: number;
  /** W1: session audit rows updated per open session per minute (its activity). */
  auditRowsPerSessionPerMinute: number;
  /** W1: PostgreSQL transactions per session audit row written. */
  pgTransactionsPerAuditRow: number;
  /** W1: WAL bytes per session audit row written. */
  walBytesPerAuditRow: number;
  /** W1: PostgreSQL CPU per session audit row written (µs). */
  pgCpuPerAuditRowMicros: number;
  /** W3: bytes per row, indexes included. */
  mealLogBytesPerRow: number;
  notificationBytesPerRow: number;
  sessionAuditBytesPerRow: number;
}

export type FigureName = keyof MeasuredFigures;

/** What the model assumes about the population and the deployment; each is a CLI option. */
export interface Assumptions {
  users: number;
  sessionsPerUser: number;
  mealsPerUserPerDay: number;
  /** Peak meal logs per second ÷ the daily average. */
  peakFactor: number;
  /** The app's own ping (`sendPing`), seconds between pings per session. */
  clientPingIntervalS: number;
  /** WS_HEARTBEAT_INTERVAL_MS: the server's protocol ping, answered by a pong. */
  heartbeatIntervalS: number;
  /** How long a session lasts; each one opened is a ws_sessions audit row. */
  sessionLifetimeMinutes: number;
  /** Share of a core (one instance is one Node process on one core) or of Redis/PostgreSQL CPU. */
  targetCpuUtilisation: number;
  instanceMemoryMib: number;
  /** Share of an instance's memory the model fills. */
  targetMemoryUtilisation: number;
  /** NOTIFICATION_RETENTION_DAYS. */
  notificationRetentionDays: number;
  /** SESSION_AUDIT_RETENTION_DAYS. */
  sessionAuditRetentionDays: number;
  /** Meal logs are kept: their growth is shown over this many days. */
  mealLogHorizonDays: number;
  postgresCores: number;
  postgresMaxConnections: number;
  /** PostgreSQL connections each instance's pool opens (src/database/data-source.ts). */
  poolSizePerInstance: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  users: 1_000_000,
  sessionsPerUser: 1.5,
  mealsPerUserPerDay: 5,
  peakFactor: 3,
  clientPingIntervalS: 30,
  heartbeatIntervalS: 30,
  sessionLifetimeMinutes: 60,
  targetCpuUtilisation: 0.6,
  instanceMemoryMib: 2048,
  targetMemoryUtilisation: 0.7,
  notificationRetentionDays: 30,
  sessionAuditRetentionDays: 90,
  mealLogHorizonDays: 365,
  postgresCores: 16,
  postgresMaxConnections: 100,
  poolSizePerInstance: 20,
};

/** A shared resource that does not grow with the instance count, and where it saturates. */
export interface Saturation {
  resource: string;
  /** Load ÷ capacity at the assumed population. */
  utilisation: number;
  /** The population at which it reaches its capacity (it grows linearly with users). */
  usersAtCapacity: number;
}

export interface CapacityPlan {
  sessions: number;
  mealLogsPerSecondAverage: number;
  mealLogsPerSecondPeak: number;
  inboundFramesPerSecond: number;
  cpu: {
    /** Per session, the larger of W1's idle measurement and W2's per-ping cost × ping rate. */
    perSessionFromPingsMicrosPerSecond: number;
    perSessionMicrosPerSecond: number;
    perMealLogMicros: number;
    sessionsCores: number;
    mealLogsCores: number;
    totalCores: number;
  };
  instances: { byCpu: number; byMemory: number; needed: number; sessionsPerInstance: number };
  redis: {
    leasesPerSecond: number;
    readsPerSecond: number;
    messagesPerSecond: number;
    commandsPerSecond: number;
    /** Commands one Redis core carries at the target utilisation. */
    commandsPerSecondPerCore: number;
    coresNeeded: number;
  };
  postgres: {
    transactionsPerSecond: number;
    mealLogRowsPerSecond: number;
    auditRowsPerSecond: number;
    rowsWrittenPerSecond: number;
    mealLogCpuCores: number;
    auditCpuCores: number;
    cpuCores: number;
    connections: number;
  };
  storage: {
    walBytesPerDay: number;
    mealLogBytesPerDay: number;
    mealLogBytesAtHorizon: number;
    notificationBytesPerDay: number;
    notificationBytesAtRetention: number;
    sessionAuditBytesPerDay: number;
    sessionAuditBytesAtRetention: number;
  };
  saturations: Saturation[];
  /** The saturation reached at the fewest users; null when none could be computed. */
  firstBottleneck: Saturation | null;
}

const DAY_S = 86_400;

export function planCapacity(f: MeasuredFigures, a: Assumptions): CapacityPlan {
  const sessions = a.users * a.sessionsPerUser;
  const mealLogsPerSecondAverage = (a.users * a.mealsPerUserPerDay) / DAY_S;
  const mealLogsPerSecondPeak = mealLogsPerSecondAverage * a.peakFactor;
  const pingsPerSessionPerSecond = 1 / a.clientPingIntervalS;
  const pongsPerSessionPerSecond = 1 / a.heartbeatIntervalS;
  // Every session of the user acknowledges the notification.
  const acksPerSecond = mealLogsPerSecondPeak * a.sessionsPerUser;
  const inboundFramesPerSecond =
    sessions * (pingsPerSessionPerSecond + pongsPerSessionPerSecond) + acksPerSecond;

  // A pong costs the server about what answering a protocol ping does: one frame in, one out.
  const perSessionFromPings =
    (pingsPerSessionPerSecond + pongsPerSessionPerSecond) * f.cpuPerProtocolPingMicros;
  const perSession = maxKnown(f.idleCpuPerSessionMicrosPerSecond, perSessionFromPings);
  const perMealLog =
    f.cpuPerPostMicros +
    f.cpuPerMealLogFirstSessionMicros +
    (a.sessionsPerUser - 1) * f.cpuPerMealLogOtherSessionMicros;
  const sessionsCores = (sessions * perSession) / 1e6;
  const mealLogsCores = (mealLogsPerSecondPeak * perMealLog) / 1e6;
  const totalCores = sessionsCores + mealLogsCores;

  const instancesByCpuExact = totalCores / a.targetCpuUtilisation;
  const sessionMemoryPerInstanceKiB =
    (a.instanceMemoryMib * a.targetMemoryUtilisation - f.baseRssMiB) * 1024;
  const instancesByMemoryExact = (sessions * f.rssPerSessionKiB) / sessionMemoryPerInstanceKiB;
  const instancesExact = maxKnown(instancesByCpuExact, instancesByMemoryExact);
  const needed = Math.ceil(instancesExact);

  const leasesPerSecond = inboundFramesPerSecond * f.redisLeasesPerFrame;
  const readsPerSecond = mealLogsPerSecondPeak * f.redisReadsPerNotification;
  // At scale a user's other sessions are on other instances than the creating one: at most one
  // message per other session, none when the one-target measurement groups them better.
  const messagesPerNotification = maxKnown(
    f.redisMessagesPerNotificationOneTarget,
    a.sessionsPerUser - 1,
  );
  const messagesPerSecond = mealLogsPerSecondPeak * messagesPerNotification;
  const commandsPerSecond = leasesPerSecond + readsPerSecond + messagesPerSecond;
  const commandsPerSecondPerCore = (a.targetCpuUtilisation * 1e6) / f.redisCpuPerCommandMicros;

  const mealLogRowsPerSecond = mealLogsPerSecondPeak * f.pgRowsWrittenPerMealLog;
  const sessionLifetimeS = a.sessionLifetimeMinutes * 60;
  const sessionsOpenedPerDay = (sessions * DAY_S) / sessionLifetimeS;
  // An open inserts the audit row and its end updates it; in between, its activity (W1).
  const auditRowsPerSecond =
    (2 * sessions) / sessionLifetimeS + (sessions * f.auditRowsPerSessionPerMinute) / 60;
  const transactionsPerSecond =
    mealLogsPerSecondPeak * f.pgTransactionsPerMealLog +
    auditRowsPerSecond * f.pgTransactionsPerAuditRow;
  const mealLogCpuCores = (mealLogsPerSecondPeak * f.pgCpuPerMealLogMicros) / 1e6;
  const auditCpuCores = (auditRowsPerSecond * f.pgCpuPerAuditRowMicros) / 1e6;
  const pgCpuCores = mealLogCpuCores + auditCpuCores;
  const connections = needed * a.poolSizePerInstance;

  const mealLogsPerDay = a.users * a.mealsPerUserPerDay;
  const storage = {
    walBytesPerDay:
      mealLogsPerDay * f.walBytesPerMealLog + auditRowsPerSecond * DAY_S * f.walBytesPerAuditRow,
    mealLogBytesPerDay: mealLogsPerDay * f.mealLogBytesPerRow,
    mealLogBytesAtHorizon: mealLogsPerDay * f.mealLogBytesPerRow * a.mealLogHorizonDays,
    notificationBytesPerDay: mealLogsPerDay * f.notificationBytesPerRow,
    notificationBytesAtRetention:
      mealLogsPerDay * f.notificationBytesPerRow * a.notificationRetentionDays,
    sessionAuditBytesPerDay: sessionsOpenedPerDay * f.sessionAuditBytesPerRow,
    sessionAuditBytesAtRetention:
      sessionsOpenedPerDay * f.sessionAuditBytesPerRow * a.sessionAuditRetentionDays,
  };

  // Everything below grows linearly with users, so each saturates at users × capacity ÷ load.
  const saturation = (resource: string, load: number, capacity: number): Saturation => ({
    resource,
    utilisation: load / capacity,
    usersAtCapacity: (a.users * capacity) / load,
  });
  const saturations = [
    saturation(
      'Redis: one primary (commands run on one core)',
      commandsPerSecond,
      commandsPerSecondPerCore,
    ),
    saturation(
      `PostgreSQL primary CPU (${a.postgresCores} cores)`,
      pgCpuCores,
      a.postgresCores * a.targetCpuUtilisation,
    ),
    saturation(
      `PostgreSQL connections (max_connections ${a.postgresMaxConnections}, ${a.poolSizePerInstance} per instance)`,
      instancesExact * a.poolSizePerInstance,
      a.postgresMaxConnections,
    ),
  ];
  const known = saturations.filter((s) => Number.isFinite(s.usersAtCapacity));
  const firstBottleneck = known.reduce<Saturation | null>(
    (first, s) => (first === null || s.usersAtCapacity < first.usersAtCapacity ? s : first),
    null,
  );

  return {
    sessions,
    mealLogsPerSecondAverage,
    mealLogsPerSecondPeak,
    inboundFramesPerSecond,
    cpu: {
      perSessionFromPingsMicrosPerSecond: perSessionFromPings,
      perSessionMicrosPerSecond: perSession,
      perMealLogMicros: perMealLog,
      sessionsCores,
      mealLogsCores,
      totalCores,
    },
    instances: {
      byCpu: Math.ceil(instancesByCpuExact),
      byMemory: Math.ceil(instancesByMemoryExact),
      needed,
      sessionsPerInstance: sessions / needed,
    },
    redis: {
      leasesPerSecond,
      readsPerSecond,
      messagesPerSecond,
      commandsPerSecond,
      commandsPerSecondPerCore,
      coresNeeded: Math.ceil(commandsPerSecond / commandsPerSecondPerCore),
    },
    postgres: {
      transactionsPerSecond,
      mealLogRowsPerSecond,
      auditRowsPerSecond,
      rowsWrittenPerSecond: mealLogRowsPerSecond + auditRowsPerSecond,
      mealLogCpuCores,
      auditCpuCores,
      cpuCores: pgCpuCores,
      connections,
    },
    storage,
    saturations,
    firstBottleneck,
  };
}

/** The larger of two figures, either of which may not be measured (NaN). */
function maxKnown(x: number, y: number): number {
  if (Number.isNaN(x)) return y;
  if (Number.isNaN(y)) return x;
  return Math.max(x, y);
}
