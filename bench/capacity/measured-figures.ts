import type { WorkloadReport } from '../harness/report';
import type { FigureName, MeasuredFigures } from './capacity.model';

/** A bench result file as bench.cli writes it (the fields the model reads). */
export interface ResultFile {
  /** The file's name, to say where a figure came from. */
  name: string;
  startedAt: string;
  options: { quick: boolean };
  reports: WorkloadReport[];
}

interface FigureSource {
  workload: string;
  metric: string;
  /** From the metric's MealPulse value (and its report's parameters) to the model's unit. */
  derive?: (value: number, report: WorkloadReport) => number;
  /**
   * The run's size, for a figure that a bigger run measures better: an instance's fixed costs
   * (timers, pools, its own heap) spread over fewer sessions inflate a per-session figure.
   */
  size?: (report: WorkloadReport) => number;
}

const sessions = (report: WorkloadReport) => Number(report.parameters.sessions);
const sessionsPerInstance = (report: WorkloadReport) =>
  Number(report.parameters['sessions per instance']);

/** Where each figure is measured: the workload's report id and the metric's name. */
export const FIGURE_SOURCES: Record<FigureName, FigureSource> = {
  rssPerSessionKiB: { workload: 'W1', metric: 'RSS per session', size: sessions },
  baseRssMiB: { workload: 'W1', metric: 'RSS before sessions' },
  idleCpuPerSessionMicrosPerSecond: {
    workload: 'W1',
    metric: 'server CPU while idle',
    // % of a core × 10^4 = µs per second, shared by the run's sessions.
    derive: (percent, report) => (percent * 1e4) / sessions(report),
    size: sessions,
  },
  cpuPerProtocolPingMicros: { workload: 'W2', metric: '(b) N×1 protocol server CPU per ping' },
  cpuPerJsonPingMicros: { workload: 'W2', metric: '(b) N×1 json server CPU per ping' },
  cpuPerPostMicros: { workload: 'W4', metric: 'POST natural server CPU per request' },
  cpuPerMealLogFirstSessionMicros: {
    workload: 'W7',
    metric: 'A CPU per meal log (worker, push, acks)',
    size: sessionsPerInstance,
  },
  cpuPerMealLogOtherSessionMicros: {
    workload: 'W7',
    metric: 'B CPU per meal log (cross-instance push, acks)',
    size: sessionsPerInstance,
  },
  redisLeasesPerFrame: {
    workload: 'W7',
    metric: 'Redis lease commands per inbound frame (ping, pong, ack)',
  },
  redisReadsPerNotification: { workload: 'W7', metric: 'Redis presence reads per notification' },
  redisMessagesPerNotificationOneTarget: {
    workload: 'W7',
    metric: 'Redis messages per notification (1 target instance)',
  },
  redisCpuPerCommandMicros: { workload: 'W7', metric: 'Redis CPU per command (main thread)' },
  pgTransactionsPerMealLog: { workload: 'W3', metric: 'PostgreSQL transactions per meal log' },
  pgRowsWrittenPerMealLog: {
    workload: 'W3',
    metric: 'rows inserted per meal log (meal-log tables)',
    derive: (inserted, report) =>
      inserted +
      metricValue(report, 'rows updated per meal log (meal-log tables)') +
      metricValue(report, 'rows deleted per meal log (meal-log tables)'),
  },
  pgCpuPerMealLogMicros: {
    workload: 'W3',
    metric: 'PostgreSQL CPU per meal log (whole local cluster)',
  },
  walBytesPerMealLog: { workload: 'W3', metric: 'WAL per meal log (cluster-wide)' },
  auditRowsPerSessionPerMinute: {
    workload: 'W1',
    metric: 'session audit rows updated per session per minute',
  },
  pgTransactionsPerAuditRow: {
    workload: 'W1',
    metric: 'PostgreSQL transactions per session audit row',
  },
  walBytesPerAuditRow: { workload: 'W1', metric: 'WAL per session audit row (cluster-wide)' },
  pgCpuPerAuditRowMicros: {
    workload: 'W1',
    metric: 'PostgreSQL CPU per session audit row (whole local cluster)',
  },
  mealLogBytesPerRow: { workload: 'W3', metric: 'meal_logs bytes per row (with indexes)' },
  notificationBytesPerRow: {
    workload: 'W3',
    metric: 'notifications bytes per row (with indexes)',
  },
  sessionAuditBytesPerRow: { workload: 'W3', metric: 'ws_sessions bytes per row (with indexes)' },
};

export interface FoundFigure {
  value: number;
  file: string;
  source: FigureSource;
}

/** MealPulse's value of a metric in a report; NaN when absent or not a number (n/a). */
function metricValue(report: WorkloadReport, name: string): number {
  const value = report.metrics.find((m) => m.name === name)?.values.mealpulse;
  return typeof value === 'number' ? value : Number.NaN;
}

/**
 * Each figure from the newest result file that holds it, or for a figure with a size the
 * biggest run's (the newest among equals), with the file it came from; NaN and null when none
 * does. Quick runs are smoke tests, not measurements, and are skipped.
 */
export function findFigures(files: ResultFile[]): {
  figures: MeasuredFigures;
  sources: Record<FigureName, FoundFigure | null>;
} {
  const newestFirst = files
    .filter((file) => !file.options.quick)
    .sort((x, y) => y.startedAt.localeCompare(x.startedAt));
  const figures = {} as MeasuredFigures;
  const sources = {} as Record<FigureName, FoundFigure | null>;
  for (const [name, source] of Object.entries(FIGURE_SOURCES) as [FigureName, FigureSource][]) {
    figures[name] = Number.NaN;
    sources[name] = null;
    const candidates = newestFirst.flatMap((file) =>
      file.reports.filter((r) => r.id === source.workload).map((report) => ({ file, report })),
    );
    // A stable sort: the newest stays first among runs of one size.
    if (source.size) {
      const size = source.size;
      candidates.sort((x, y) => (size(y.report) || 0) - (size(x.report) || 0));
    }
    for (const { file, report } of candidates) {
      const raw = metricValue(report, source.metric);
      const value = source.derive ? source.derive(raw, report) : raw;
      if (!Number.isFinite(value)) continue;
      figures[name] = value;
      sources[name] = { value, file: file.name, source };
      break;
    }
  }
  return { figures, sources };
}
