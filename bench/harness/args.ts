import { join } from 'node:path';
import type { RunOptions } from '../workloads/workload';

export interface BenchArgs {
  /** Workload names to run, in order; every workload when none is given. */
  workloads: string[];
  options: RunOptions;
}

const USAGE = `usage: npm run bench -- [w1|w2|w3|w4|w5|w6|w7|w8 ...] [--quick] [--sessions N] [--duration S] [--rate R] [--rates R1,R2,...] [--profile]`;

function positiveNumber(flag: string, value: string | undefined): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`${flag} needs a positive number\n${USAGE}`);
  }
  return parsed;
}

/** `--rates 100,250,500`: positive rates, each once, in ascending order. */
function rateList(flag: string, value: string | undefined): number[] {
  const rates = (value ?? '').split(',').map((part) => Number(part.trim()));
  if (value === undefined || rates.some((rate) => !Number.isFinite(rate) || rate <= 0)) {
    throw new Error(`${flag} needs positive numbers separated by commas\n${USAGE}`);
  }
  return [...new Set(rates)].sort((a, b) => a - b);
}

export function parseArgs(argv: string[], known: string[], resultsDir: string): BenchArgs {
  const workloads: string[] = [];
  const options: RunOptions = {
    quick: false,
    sessions: null,
    durationS: null,
    rate: null,
    rates: null,
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
      case '--rates':
        options.rates = rateList(arg, argv[++i]);
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
