import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { TEST_JWT_SECRET } from './tokens';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface ChildApp {
  process: ChildProcess;
  baseUrl: string;
  /** Every log line the child printed, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves when the child has exited (after `kill` or on its own). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (
    signal?: NodeJS.Signals,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog: (
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) => Promise<Record<string, unknown>>;
}

/**
 * The built service (`npm run build` output) in its own process, for what only a real process
 * can show: being killed mid-work, SIGTERM, several processes on one database.
 */
export async function startChildApp(
  env: Record<string, string>,
  {
    timeoutMs = 20_000,
    preload,
    main = MAIN,
    cwd,
  }: {
    timeoutMs?: number;
    preload?: string;
    /** Another build's main.js (a copy of the checkout elsewhere). */
    main?: string;
    cwd?: string;
  } = {},
): Promise<ChildApp> {
  const args = preload ? ['-r', join(__dirname, preload), main] : [main];
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, wait = timeoutMs) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`child exited before the expected log line; stderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a log line; stderr: ${stderr}`));
      }, wait);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const listening = await waitForLog((line) =>
    String(line.msg).startsWith('MealPulse listening on'),
  );
  const port = /:(\d+)/.exec(String(listening.msg).replace(/^.*listening on /, ''))![1];
  return {
    process: child,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    exited,
    waitForLog,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the built service in `env` until it exits on its own: a start-up it refuses. */
export async function startUpRefusal(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'error', ...env },
      timeout: 20_000,
    });
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
  throw new Error('the service started and exited 0');
}
