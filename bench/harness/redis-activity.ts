import Redis from 'ioredis';

/** `field:value` lines of an INFO section. */
function parseInfo(text: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = Number(line.slice(colon + 1));
  }
  return fields;
}

interface Reading {
  cpuSeconds: number;
  commands: number;
}

async function read(redis: Redis): Promise<Reading> {
  const cpu = parseInfo(await redis.info('cpu'));
  const stats = parseInfo(await redis.info('stats'));
  // Redis runs commands on its main thread; older servers report only the process total.
  const main = cpu.used_cpu_user_main_thread + cpu.used_cpu_sys_main_thread;
  return {
    cpuSeconds: Number.isNaN(main) ? cpu.used_cpu_user + cpu.used_cpu_sys : main,
    commands: stats.total_commands_processed,
  };
}

/**
 * Redis's CPU per command over a measured window, from INFO: the figure that says how many
 * commands per second one Redis core carries (`npm run capacity`). Both counters are the whole
 * server's, so other clients' commands are in the average too.
 */
export class RedisActivityWindow {
  private constructor(
    private readonly redis: Redis,
    private readonly before: Reading,
  ) {}

  static async open(url: string): Promise<RedisActivityWindow> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    return new RedisActivityWindow(redis, await read(redis));
  }

  /** µs of Redis CPU per command processed in the window. */
  async end(): Promise<number> {
    try {
      const after = await read(this.redis);
      return (
        ((after.cpuSeconds - this.before.cpuSeconds) * 1e6) /
        Math.max(1, after.commands - this.before.commands)
      );
    } finally {
      this.redis.disconnect();
    }
  }
}
