import { ChildProcess, execFileSync, spawn, SpawnOptions } from 'node:child_process';

/** Cores as the harness uses them: the server alone on one, the load generators on the other. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

let tasksetAvailable: boolean | null = null;

function hasTaskset(): boolean {
  if (tasksetAvailable === null) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetAvailable = true;
    } catch {
      tasksetAvailable = false;
    }
  }
  return tasksetAvailable;
}

/**
 * Starts `node <args>` pinned to `core` with `taskset` where it exists (exec'd, so the child's
 * pid is node's), with an IPC channel for probes and commands.
 */
export function spawnPinnedNode(core: number, args: string[], options: SpawnOptions): ChildProcess {
  const stdio = options.stdio ?? ['ignore', 'inherit', 'inherit', 'ipc'];
  return hasTaskset()
    ? spawn('taskset', ['-c', String(core), process.execPath, ...args], { ...options, stdio })
    : spawn(process.execPath, args, { ...options, stdio });
}

export function isPinned(): boolean {
  return hasTaskset();
}
