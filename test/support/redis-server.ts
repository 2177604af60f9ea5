import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Whether this machine can run a private redis-server for a test (the cluster tests need one). */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/**
 * A throwaway redis-server on its own port, so a test can stop and restart "Redis" without
 * touching the machine's shared one. Nothing is persisted.
 */
export class TestRedisServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly password: string | null,
  ) {}

  /** With `password`, the server refuses every client that does not AUTH with it. */
  static async start({ password }: { password?: string } = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(await freePort(), password ?? null);
    await server.start();
    return server;
  }

  /** The URL a client needs, with the password in it when the server requires one. */
  get url(): string {
    return this.urlWithPassword(this.password);
  }

  urlWithPassword(password: string | null): string {
    const credentials = password === null ? '' : `:${encodeURIComponent(password)}@`;
    return `redis://${credentials}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    if (this.password !== null) args.push('--requirepass', this.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('redis-server did not start within 10 s')),
        10_000,
      );
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    this.process = null;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
