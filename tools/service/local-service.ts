/*
 * The built service as a child process on a database of its own, for the tools that judge it
 * from outside (the soak, `npm run simulate -- --local`): a throwaway database, a local APNs peer
 * it pushes to, and the process with the benchmarks' memory probe preloaded.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ipcRequest } from '../../bench/harness/ipc-request';
import type { MemoryReading, ProbeReply } from '../../bench/probe/probe-messages';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';
import { apnsServiceEnv, createApnsTestCredentials } from '../apns-peer/apns-credentials';
import { FakeApns } from '../apns-peer/fake-apns';

const MAIN = join(__dirname, '..', '..', 'src', 'main.js');
/**
 * The benchmarks' probe, preloaded into the service: memory read after a forced full GC. Heap in
 * use sampled without a GC swings by tens of MiB with garbage not yet collected, which a trend
 * over a minute's samples cannot tell from a leak.
 */
const PROBE = join(__dirname, '..', '..', 'bench', 'probe', 'probe.preload.js');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(500);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A database for one run alone: a fresh one on DATABASE_URL's server, or an embedded cluster. */
export async function throwawayDatabase(
  label: string,
): Promise<{ url: string; dispose: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    // A directory of its own: as root, the cluster runs as the postgres user, who owns it.
    const dataDir = await mkdtemp(join(tmpdir(), `mealpulse-${label}-pg-`));
    const embedded = new EmbeddedPostgresServer(dataDir);
    return {
      url: await embedded.start(),
      dispose: async () => {
        await embedded.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `mealpulse_${label}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dispose: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * A local APNs peer (tools/apns-peer) and the environment that points the service at it: the
 * signing key it verifies against, and its self-signed certificate to trust.
 */
export async function localApnsPeer(
  dir: string,
): Promise<{ peer: FakeApns; env: Record<string, string> }> {
  const credentials = await createApnsTestCredentials(dir);
  const peer = await FakeApns.start({ credentials });
  return {
    peer,
    env: apnsServiceEnv(credentials, peer.url),
  };
}

export class ServiceProcess {
  private constructor(
    readonly process: ChildProcess,
    readonly baseUrl: string,
  ) {}

  static async start(env: Record<string, string>, logFile: string): Promise<ServiceProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--expose-gc', '--require', PROBE, MAIN], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const log = createWriteStream(logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`);
    const ready = await waitUntil(
      async () => (await fetch(`${service.baseUrl}/health/ready`)).status === 200,
      60_000,
    );
    if (!ready) throw new Error(`the service did not become ready; see ${logFile}`);
    return service;
  }

  /** RSS and heap in use right after a forced full GC, from the probe. */
  async memoryAfterGc(): Promise<MemoryReading> {
    const reply = (await ipcRequest(
      this.process,
      { probe: 'memory' },
      (answer) => (answer as ProbeReply)?.probe === 'memory',
      30_000,
    )) as ProbeReply;
    if (reply.error) throw new Error(`memory probe: ${reply.error}`);
    return reply.value as MemoryReading;
  }

  async openFileDescriptors(): Promise<number> {
    return (await readdir(`/proc/${this.process.pid}/fd`)).length;
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    await exited;
  }
}
