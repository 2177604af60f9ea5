import { cpus, release, totalmem } from 'node:os';
import { isPinned } from './pinned-spawn';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  pinned: string;
}

export function describeMachine(): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    pinned: isPinned()
      ? 'server on core 0, load generators on core 1 (taskset)'
      : 'not pinned (no taskset)',
  };
}
