import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ipcRequest } from '../harness/ipc-request';
import { LOAD_CORE, spawnPinnedNode } from '../harness/pinned-spawn';
import type { LoadCommand, LoadReply, TargetSpec } from './load-messages';

/** Well under the 19,900 sockets one process may hold here (20,000 open files). */
export const MAX_SESSIONS_PER_WORKER = 10_000;

const WORKER = join(__dirname, 'load-worker.js');

/**
 * The load generator processes for one measurement: `sessions` split over as few workers as the
 * per-process socket limit allows, all pinned to the load core. Commands go to every worker at
 * once and their replies come back as one list.
 */
export class LoadPool {
  private constructor(
    private readonly workers: ChildProcess[],
    private readonly shares: number[],
  ) {}

  static start(sessions: number): LoadPool {
    const count = Math.max(1, Math.ceil(sessions / MAX_SESSIONS_PER_WORKER));
    const shares = Array.from(
      { length: count },
      (_, i) => Math.floor(((i + 1) * sessions) / count) - Math.floor((i * sessions) / count),
    );
    const workers = shares.map(() => spawnPinnedNode(LOAD_CORE, [WORKER], {}));
    return new LoadPool(workers, shares);
  }

  /** Opens every worker's share of the sessions; `concurrency` is per worker. */
  open(
    target: TargetSpec,
    options: { concurrency: number; autoPong?: boolean; reconnect?: boolean; timeoutMs: number },
  ): Promise<unknown[]> {
    let firstIndex = 0;
    return Promise.all(
      this.workers.map((worker, i) => {
        const command: LoadCommand = {
          cmd: 'open',
          target,
          firstIndex,
          count: this.shares[i],
          concurrency: options.concurrency,
          autoPong: options.autoPong ?? true,
          reconnect: options.reconnect ?? false,
        };
        firstIndex += this.shares[i];
        return this.request(worker, command, options.timeoutMs);
      }),
    );
  }

  all(command: LoadCommand, timeoutMs: number): Promise<unknown[]> {
    return Promise.all(this.workers.map((worker) => this.request(worker, command, timeoutMs)));
  }

  async stop(): Promise<void> {
    await this.all({ cmd: 'close' }, 10_000).catch(() => undefined);
    for (const worker of this.workers) worker.kill('SIGKILL');
  }

  private async request(worker: ChildProcess, command: LoadCommand, timeoutMs: number) {
    const reply = (await ipcRequest(worker, command, () => true, timeoutMs)) as LoadReply;
    if (!reply.ok) throw new Error(`load worker failed on ${command.cmd}: ${reply.error}`);
    return reply.result;
  }
}
