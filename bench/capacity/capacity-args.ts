import type { Assumptions } from './capacity.model';
import { DEFAULT_ASSUMPTIONS } from './capacity.model';

/** `sessionsPerUser` → `--sessions-per-user`. */
function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export const CAPACITY_USAGE = `usage: npm run capacity -- [--results DIR] ${Object.entries(
  DEFAULT_ASSUMPTIONS,
)
  .map(([key, value]) => `[${flagOf(key)} N (${value})]`)
  .join(' ')}`;

/** The assumptions with the command line's overrides, and the results directory to read. */
export function parseCapacityArgs(
  argv: string[],
  defaultResultsDir: string,
): { assumptions: Assumptions; resultsDir: string } {
  const assumptions: Assumptions = { ...DEFAULT_ASSUMPTIONS };
  const keys = new Map(
    (Object.keys(DEFAULT_ASSUMPTIONS) as (keyof Assumptions)[]).map((k) => [flagOf(k), k]),
  );
  let resultsDir = defaultResultsDir;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (flag === '--results' && value !== undefined) {
      resultsDir = value;
      continue;
    }
    const key = keys.get(flag);
    const parsed = Number(value);
    if (!key || value === undefined || !Number.isFinite(parsed) || parsed <= 0) {
      throw new Error(`bad argument "${flag} ${value ?? ''}"\n${CAPACITY_USAGE}`);
    }
    assumptions[key] = parsed;
  }
  return { assumptions, resultsDir };
}
