import type { DatabaseServer } from '../harness/bench-database';
import type { Progress } from '../harness/progress';
import type { WorkloadReport } from '../harness/report';

export interface RunOptions {
  /** Small sizes, so that every workload together runs in about two minutes (CI smoke test). */
  quick: boolean;
  /** Overrides the workload's session count. */
  sessions: number | null;
  /** Overrides the workload's measured duration, in seconds. */
  durationS: number | null;
  /** Overrides W7's meal logs per second (what its latency target is held to is 1,000). */
  rate: number | null;
  /** Overrides the rates W3 steps through and W7 sweeps, in meal logs per second. */
  rates: number[] | null;
  /** Write a CPU profile of each measured window into profileDir. */
  profile: boolean;
  profileDir: string;
}

export interface WorkloadContext {
  options: RunOptions;
  progress: Progress;
  database: DatabaseServer;
}

export interface Workload {
  /** `w1`…`w8`, as given on the command line. */
  name: string;
  run(context: WorkloadContext): Promise<WorkloadReport>;
}

/** The workload's size: the command line's override, else the quick or full default. */
export function sessionsFor(context: WorkloadContext, full: number, quick: number): number {
  return context.options.sessions ?? (context.options.quick ? quick : full);
}

/** The rates a workload steps through: the command line's, else the quick or full default. */
export function ratesFor(context: WorkloadContext, full: number[], quick: number[]): number[] {
  return context.options.rates ?? (context.options.quick ? quick : full);
}

export function durationMsFor(context: WorkloadContext, fullS: number, quickS: number): number {
  return 1000 * (context.options.durationS ?? (context.options.quick ? quickS : fullS));
}
