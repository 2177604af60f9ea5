import { join } from 'node:path';
import type { RunOptions } from '../workloads/workload';

export interface BenchArgs {
  /** Workload names to run, in order; every workload when none is given. */
  workloads: string[];
  options: RunOptions;
}

const USAGE = `usage: npm run bench -- [w1|w2|w3|w4|w5|w6|w7|w8 ...] [--quick] [--sessions N] [--duration S] [--rate R] [--profile]`;

function positiveNumber(flag: string, value: string | undefined): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`${flag} needs a positive number\n${USAGE}`);
  }
  return parsed;
}

export function parseArgs(argv: string[], known: string[], resultsDir: string): BenchArgs {
  const workloads: string[] = [];
  const options: RunOptions = {
    quick: false,
    sessions: null,
    durationS: null,
    rate: null,
    profile: false,
    profileDir: join(resultsDir, 'profiles'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--quick':
        options.quick = true;
        break;
      case '--sessions':
        options.sessions = Math.round(positiveNumber(arg, argv[++i]));
        break;
      case '--duration':
        options.durationS = positiveNumber(arg, argv[++i]);
        break;
      case '--rate':
        options.rate = positiveNumber(arg, argv[++i]);
        break;
      case '--profile':
        options.profile = true;
        break;
      default: {
        const name = arg.toLowerCase();
        if (!known.includes(name)) throw new Error(`unknown argument "${arg}"\n${USAGE}`);
        workloads.push(name);
      }
    }
  }
  return { workloads: workloads.length > 0 ? workloads : known, options };
}
