import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PostResult } from '../load/meal-poster';
import type { ProduceReply, ProduceRequest } from '../references/produce-requests';
import type { PresenceSummary } from '../references/reference-presence';
import type {
  CpuReading,
  GcPause,
  LoopDelayReading,
  MemoryReading,
  ProbeReply,
  ProbeRequest,
} from '../probe/probe-messages';
import { freePort, portOpen } from './free-port';
import { ipcRequest } from './ipc-request';
import { SERVER_CORE, spawnPinnedNode } from './pinned-spawn';
import { SERVER_KINDS, ServerKind } from './server-kinds';

const PROBE = join(__dirname, '..', 'probe', 'probe.preload.js');
const START_TIMEOUT_MS = 90_000;
const PROBE_TIMEOUT_MS = 30_000;
/** The secret every server and load worker of a run shares. */
export const BENCH_JWT_SECRET = 'mealpulse-benchmark-secret-0123456789';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One server process under test (MealPulse from the build output, or a reference), pinned to
 * the server core, with the probe preloaded; restartable on the same port and database.
 */
export class ServerUnderTest {
  private child: ChildProcess | null = null;
  private stderr = '';
  /** Set while the harness itself is ending the process, so that only crashes are reported. */
  private ending = false;

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly core: number,
  ) {}

  /** `core`: where to pin it; W7 puts a second instance on the load core. */
  static async start(
    kind: ServerKind,
    env: Record<string, string>,
    core = SERVER_CORE,
  ): Promise<ServerUnderTest> {
    const server = new ServerUnderTest(kind, await freePort(), env, core);
    await server.launch();
    return server;
  }

  get label(): string {
    return SERVER_KINDS[this.kind].label;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    const child = spawnPinnedNode(
      this.core,
      ['--expose-gc', '--require', PROBE, SERVER_KINDS[this.kind].script],
      {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          JWT_SECRET: BENCH_JWT_SECRET,
          ...this.env,
          PORT: String(this.port),
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    this.child = child;
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4_000);
    });
    child.once('exit', (code, signal) => {
      if (this.ending) return;
      // Nothing after this is valid: say why at once, rather than time out somewhere later.
      process.stderr.write(
        `\n${this.label} exited unexpectedly (${signal ?? code}): ${this.stderr}\n`,
      );
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await portOpen(this.port))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.label} exited during start-up: ${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`${this.label} did not start: ${this.stderr}`);
      await sleep(50);
    }
  }

  /** SIGKILL: the crash of the reconnect storm; `launch()` brings it back on the same port. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.ending = true;
    child.kill('SIGKILL');
    await exited;
    this.ending = false;
  }

  /** SIGTERM and the graceful shutdown, SIGKILL if it takes longer than 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.ending = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  memory(): Promise<MemoryReading> {
    return this.probe({ probe: 'memory' }) as Promise<MemoryReading>;
  }

  async cpuMicros(): Promise<number> {
    return ((await this.probe({ probe: 'cpu' })) as CpuReading).cpuMicros;
  }

  /**
   * How long the server's main thread (its event loop) has been runnable but waiting for a core,
   * from the kernel's scheduler statistics (Linux); NaN where there are none.
   */
  async runQueueWaitMicros(): Promise<number> {
    try {
      const [, waitingNs] = (await readFile(`/proc/${this.child?.pid}/schedstat`, 'utf8')).split(
        ' ',
      );
      return Number(waitingNs) / 1_000;
    } catch {
      return Number.NaN;
    }
  }

  async resetLoopDelay(): Promise<void> {
    await this.probe({ probe: 'loop-delay-reset' });
  }

  loopDelay(): Promise<LoopDelayReading> {
    return this.probe({ probe: 'loop-delay' }) as Promise<LoopDelayReading>;
  }

  async startProfile(): Promise<void> {
    await this.probe({ probe: 'profile-start' });
  }

  async stopProfile(path: string): Promise<void> {
    await this.probe({ probe: 'profile-stop', path });
  }

  async startGcPauses(): Promise<void> {
    await this.probe({ probe: 'gc-start' });
  }

  /** The garbage-collection pauses since `startGcPauses`. */
  gcPauses(): Promise<GcPause[]> {
    return this.probe({ probe: 'gc-pauses' }) as Promise<GcPause[]>;
  }

  /** The references' presence map, over IPC (MealPulse's is read from its admin API instead). */
  async referencePresence(): Promise<PresenceSummary> {
    const reply = (await ipcRequest(
      this.running(),
      { query: 'presence' },
      (message) => typeof message === 'object' && message !== null && 'presence' in message,
      PROBE_TIMEOUT_MS,
    )) as { presence: PresenceSummary };
    return reply.presence;
  }

  /** W7's baseline: instance A completes meal logs at a steady rate (`ReferenceCluster`). */
  async produceCompletions(request: Omit<ProduceRequest, 'query'>): Promise<PostResult> {
    const reply = (await ipcRequest(
      this.running(),
      { query: 'produce', ...request } satisfies ProduceRequest,
      (message) => typeof message === 'object' && message !== null && 'produced' in message,
      request.durationMs + PROBE_TIMEOUT_MS,
    )) as ProduceReply;
    return reply.produced;
  }

  private async probe(request: ProbeRequest): Promise<unknown> {
    const reply = (await ipcRequest(
      this.running(),
      request,
      (message) => (message as Partial<ProbeReply>)?.probe === request.probe,
      PROBE_TIMEOUT_MS,
    )) as ProbeReply;
    if (reply.error) throw new Error(`probe ${request.probe} failed: ${reply.error}`);
    return reply.value;
  }

  private running(): ChildProcess {
    if (!this.child || this.child.exitCode !== null)
      throw new Error(`${this.label} is not running`);
    return this.child;
  }
}
