import type { ServerKind } from './server-kinds';
import { SERVER_KINDS } from './server-kinds';

/** One measured quantity, per server; ratios are MealPulse ÷ reference. */
export interface Metric {
  name: string;
  unit: string;
  values: Partial<Record<ServerKind, number>>;
  /** Decimal places when printed. */
  digits?: number;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface WorkloadReport {
  id: string;
  title: string;
  parameters: Record<string, number | string>;
  /** Column order: MealPulse first, then the references. */
  servers: ServerKind[];
  metrics: Metric[];
  targets: TargetCheck[];
  notes: string[];
}

/** A metric from per-server measurements of any shape. */
export function metricOf<M>(
  measurements: Partial<Record<ServerKind, M>>,
  name: string,
  unit: string,
  pick: (measurement: M) => number,
  digits = 1,
): Metric {
  const values: Metric['values'] = {};
  for (const [kind, measurement] of Object.entries(measurements) as [ServerKind, M][]) {
    values[kind] = pick(measurement);
  }
  return { name, unit, digits, values };
}

export function ratio(metric: Metric, reference: ServerKind): number {
  const mine = metric.values.mealpulse;
  const theirs = metric.values[reference];
  return mine === undefined || theirs === undefined || theirs === 0 ? Number.NaN : mine / theirs;
}

function format(value: number | undefined, digits = 1): string {
  if (value === undefined) return 'n/a';
  if (Number.isNaN(value)) return '-';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The workload as Markdown: a comparison table, then its targets; printed and put in the docs. */
export function renderReport(report: WorkloadReport): string {
  const references = report.servers.filter((kind) => kind !== 'mealpulse');
  const header = ['metric', ...report.servers.map((kind) => SERVER_KINDS[kind].label)];
  for (const kind of references) header.push(`MealPulse ÷ ${SERVER_KINDS[kind].label}`);
  const rows = report.metrics.map((metric) => [
    `${metric.name} (${metric.unit})`,
    ...report.servers.map((kind) => format(metric.values[kind], metric.digits)),
    ...references.map((kind) => format(ratio(metric, kind), 2)),
  ]);
  const parameters = Object.entries(report.parameters)
    .map(
      ([key, value]) =>
        `${key} ${typeof value === 'number' ? value.toLocaleString('en-US') : value}`,
    )
    .join(', ');
  const lines = [
    `### ${report.id} ${report.title}`,
    '',
    parameters,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
  if (report.targets.length > 0) {
    lines.push('| target | measured | met |', '| --- | --- | --- |');
    for (const check of report.targets) {
      lines.push(`| ${check.target} | ${check.measured} | ${check.met ? 'yes' : '**no**'} |`);
    }
    lines.push('');
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');
  return lines.join('\n');
}

export function check(target: string, value: number, met: boolean, digits = 2): TargetCheck {
  return { target, measured: format(value, digits), met: met && !Number.isNaN(value) };
}
