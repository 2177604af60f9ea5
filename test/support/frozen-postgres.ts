import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryOnce } from './sql';

/** The parent pid and state letter of a process, from /proc/<pid>/stat (null once it is gone). */
async function processStat(pid: number): Promise<{ ppid: number; state: string } | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(ppid), state };
}

async function childrenOf(parent: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = await Promise.all(pids.map(async (pid) => ({ pid, stat: await processStat(pid) })));
  return stats.filter(({ stat }) => stat?.ppid === parent).map(({ pid }) => pid);
}

/** A process that exited between the listing and the signal needs no signal. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * A PostgreSQL server that hangs instead of stopping: its postmaster and every process it forked
 * (backends, checkpointer, WAL writer…) get SIGSTOP. Open connections stay open and new ones are
 * still accepted by the kernel's listen backlog, but nothing ever answers: what a stalled disk, a
 * frozen VM or a lost network path looks like from the client. SIGCONT resumes it where it was.
 *
 * Only for a cluster of the test's own: the machine's server is shared with other test runs.
 */
export class FrozenPostgres {
  private constructor(private readonly postmasterPid: number) {}

  /** The server behind `databaseUrl`, found through its data directory's postmaster.pid. */
  static async of(databaseUrl: string): Promise<FrozenPostgres> {
    const [{ data_directory: dataDirectory }] = await queryOnce<{ data_directory: string }>(
      databaseUrl,
      'SHOW data_directory',
    );
    const pidFile = await readFile(join(dataDirectory, 'postmaster.pid'), 'utf8');
    return new FrozenPostgres(Number(pidFile.split('\n')[0]));
  }

  async freeze(): Promise<void> {
    // The postmaster first: once it is stopped it forks no new backend to miss.
    signal(this.postmasterPid, 'SIGSTOP');
    for (const pid of await childrenOf(this.postmasterPid)) signal(pid, 'SIGSTOP');
  }

  async thaw(): Promise<void> {
    for (const pid of await childrenOf(this.postmasterPid)) signal(pid, 'SIGCONT');
    signal(this.postmasterPid, 'SIGCONT');
  }

  /**
   * The postmaster and children not yet stopped (T) or exited, with their state: frozen when
   * there are none. A backend whose client left stays a zombie (Z) while its parent cannot reap
   * it; one caught in a disk wait (D) stops when the wait ends.
   */
  async notStopped(): Promise<{ pid: number; state: string }[]> {
    const pids = [this.postmasterPid, ...(await childrenOf(this.postmasterPid))];
    const states = await Promise.all(
      pids.map(async (pid) => ({ pid, state: (await processStat(pid))?.state })),
    );
    return states.filter(
      (p): p is { pid: number; state: string } =>
        p.state !== undefined && p.state !== 'T' && p.state !== 'Z',
    );
  }
}
