import { sign } from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { percentile } from './stats';

export interface SimulatorOptions {
  /** http(s)://host:port of MealPulse. */
  url: string;
  jwtSecret: string;
  users: number;
  devicesPerUser: number;
  mealsPerUser: number;
  pingIntervalMs: number;
  durationMs: number;
  /** Without a notification this long after POST, the app polls GET /api/v1/meal-logs/:id. */
  fallbackAfterMs: number;
  /** Share of sockets dropped without a close frame per minute (0-1), as phones losing network. */
  dropRatePerMinute: number;
  /** Prefix of user ids, so several runs against one server do not mix. */
  userPrefix: string;
  onProgress?: (progress: SimulatorProgress) => void;
  /** Runs once every meal is resolved, while the devices are still connected (soak checks). */
  beforeClose?: () => Promise<void>;
}

export interface SimulatorProgress {
  elapsedMs: number;
  connected: number;
  posted: number;
  resolved: number;
  viaSocket: number;
  polls: number;
}

export interface SimulatorReport {
  users: number;
  devices: number;
  durationMs: number;
  mealsPosted: number;
  mealsResolved: number;
  /** Meals whose result first reached the user over the socket, of all posted. */
  realTimeDeliveryRate: number;
  postToResultMs: { p50: number; p95: number; p99: number; max: number };
  pollingRequests: number;
  pollingRequestsPerUserPerMinute: number;
  /** Sessions the server swept as stale (4408) although the client was alive and pinging. */
  sessionsWrongfullySwept: number;
  reconnects: number;
  drops: number;
  /** Notifications received by a user that belonged to another user (must be 0). */
  foreignNotifications: number;
  /** Every notification id the user's devices received, de-duplicated (for ledger checks). */
  receivedByUser: Map<string, Set<string>>;
}

interface Meal {
  id: string;
  postedAt: number;
  resolvedAt: number | null;
  via: 'socket' | 'poll' | null;
}

interface SimUser {
  userId: string;
  token: string;
  meals: Map<string, Meal>;
  /** Results that arrived before their POST answered (meal id → when): matched when it does. */
  early: Map<string, number>;
  received: Set<string>;
  lastSeq: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A wait that does not keep the process alive once the run is over. */
const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Behaves like the iOS app for many users at once: one WebSocket per device with protocol pings
 * at the app's interval, meals posted over REST, results expected over the socket, acks, and
 * reconnects with jittered back-off; polling only as the fallback. Reports the incident's
 * success table.
 */
export class Simulator {
  private readonly users: SimUser[] = [];
  private readonly sockets = new Set<WebSocket>();
  private stopped = false;
  private polls = 0;
  private wrongfullySwept = 0;
  private reconnects = 0;
  private drops = 0;
  private connected = 0;

  constructor(private readonly options: SimulatorOptions) {}

  async run(): Promise<SimulatorReport> {
    const { users, devicesPerUser, durationMs } = this.options;
    for (let i = 0; i < users; i++) {
      const userId = `${this.options.userPrefix}${i}`;
      const token = sign({ sub: userId }, this.options.jwtSecret, {
        algorithm: 'HS256',
        expiresIn: Math.ceil(durationMs / 1000) + 3600,
      });
      this.users.push({
        userId,
        token,
        meals: new Map(),
        early: new Map(),
        received: new Set(),
        lastSeq: 0,
      });
    }
    const started = Date.now();
    const devices = this.users.flatMap((user) =>
      Array.from({ length: devicesPerUser }, (_, d) =>
        this.device(user, `device-${d}`, started + durationMs),
      ),
    );
    const meals = this.users.map((user) => this.postMeals(user, started, durationMs));
    const progress = setInterval(() => this.options.onProgress?.(this.progress(started)), 1_000);
    const drops =
      this.options.dropRatePerMinute > 0 ? setInterval(() => this.dropSome(), 6_000) : null;
    try {
      await Promise.all(meals);
      // Sessions live for the whole run: staying online between meals is half of what is measured.
      await sleep(Math.max(0, started + durationMs - Date.now()));
      // Give the last meals their full chance (socket, then the fallback poll).
      await this.waitForResults(this.options.fallbackAfterMs * 3);
      await this.options.beforeClose?.();
    } finally {
      this.stopped = true;
      clearInterval(progress);
      if (drops) clearInterval(drops);
      for (const socket of this.sockets) socket.close(1000);
      await Promise.allSettled(devices);
    }
    return this.report(Date.now() - started);
  }

  private progress(started: number): SimulatorProgress {
    const meals = this.users.flatMap((u) => [...u.meals.values()]);
    return {
      elapsedMs: Date.now() - started,
      connected: this.connected,
      posted: meals.length,
      resolved: meals.filter((m) => m.resolvedAt !== null).length,
      viaSocket: meals.filter((m) => m.via === 'socket').length,
      polls: this.polls,
    };
  }

  /** One device: connect, ping, ack, and reconnect with back-off until the run ends. */
  private async device(user: SimUser, deviceId: string, until: number): Promise<void> {
    let attempt = 0;
    while (!this.stopped && Date.now() < until + this.options.fallbackAfterMs * 3) {
      const opened = await this.session(user, deviceId);
      if (this.stopped) return;
      attempt = opened ? 0 : attempt + 1;
      this.reconnects++;
      // Full jitter, capped: a storm of reconnecting phones spreads itself out.
      await sleep(Math.random() * Math.min(30_000, 500 * 2 ** attempt));
    }
  }

  /** Resolves when the socket closes; true if it had opened. */
  private session(user: SimUser, deviceId: string): Promise<boolean> {
    return new Promise((resolve) => {
      const url = new URL('/ws', this.options.url.replace(/^http/, 'ws'));
      url.searchParams.set('deviceId', deviceId);
      if (user.lastSeq > 0) url.searchParams.set('after', String(user.lastSeq));
      const socket = new WebSocket(url, {
        headers: { Authorization: `Bearer ${user.token}` },
        perMessageDeflate: false,
      });
      this.sockets.add(socket);
      let opened = false;
      let pinger: NodeJS.Timeout | undefined;
      socket.on('open', () => {
        opened = true;
        this.connected++;
        pinger = setInterval(() => socket.ping(), this.options.pingIntervalMs);
      });
      socket.on('message', (data: Buffer) => this.onFrame(user, socket, data.toString()));
      socket.on('error', () => undefined);
      socket.on('close', (code) => {
        if (opened) this.connected--;
        if (code === 4408) this.wrongfullySwept++;
        clearInterval(pinger);
        this.sockets.delete(socket);
        resolve(opened);
      });
    });
  }

  private onFrame(user: SimUser, socket: WebSocket, text: string): void {
    const frame = JSON.parse(text) as {
      type: string;
      id?: string;
      seq?: number;
      data?: { id: string; status: string };
    };
    if (frame.type !== 'notification' || !frame.data || frame.seq === undefined || !frame.id)
      return;
    user.received.add(frame.id);
    user.lastSeq = Math.max(user.lastSeq, frame.seq);
    const meal = user.meals.get(frame.data.id);
    // A fast result can beat its own POST's answer; anything never claimed is another's.
    if (!meal) user.early.set(frame.data.id, Date.now());
    else if (meal.resolvedAt === null) {
      meal.resolvedAt = Date.now();
      meal.via = 'socket';
    }
    socket.send(JSON.stringify({ type: 'ack', seq: frame.seq }));
  }

  private async postMeals(user: SimUser, started: number, durationMs: number): Promise<void> {
    // Spread each user's meals over the first 80 % of the run, with a per-user offset.
    const spacing = (durationMs * 0.8) / Math.max(1, this.options.mealsPerUser);
    await sleep(Math.random() * spacing);
    for (let i = 0; i < this.options.mealsPerUser && !this.stopped; i++) {
      const due = started + i * spacing + Math.random() * spacing * 0.5;
      if (due > Date.now()) await sleep(due - Date.now());
      await this.postMeal(user, i);
    }
  }

  private async postMeal(user: SimUser, index: number): Promise<void> {
    const texts = [
      '1 small apple',
      '2 slices of toast with butter',
      'half a cup of rice',
      'a coffee with milk',
      '200g chicken breast and a salad',
    ];
    const postedAt = Date.now();
    const response = await fetch(new URL('/api/v1/meal-logs/natural', this.options.url), {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${user.token}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `${user.userId}-${index}`,
      },
      body: JSON.stringify({ text: texts[index % texts.length] }),
    });
    if (response.status !== 201)
      throw new Error(`POST meal answered ${response.status}: ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    const early = user.early.get(id);
    user.early.delete(id);
    const meal: Meal = early
      ? { id, postedAt, resolvedAt: early, via: 'socket' }
      : { id, postedAt, resolvedAt: null, via: null };
    user.meals.set(id, meal);
    if (!early) void this.fallback(user, meal);
  }

  /** The app's safety net: poll only when the socket did not deliver within the window. */
  private async fallback(user: SimUser, meal: Meal): Promise<void> {
    await idle(this.options.fallbackAfterMs);
    while (meal.resolvedAt === null && !this.stopped) {
      this.polls++;
      const response = await fetch(new URL(`/api/v1/meal-logs/${meal.id}`, this.options.url), {
        headers: { Authorization: `Bearer ${user.token}` },
      }).catch(() => null);
      if (response?.ok) {
        const log = (await response.json()) as { status: string };
        if (log.status !== 'processing' && meal.resolvedAt === null) {
          meal.resolvedAt = Date.now();
          meal.via = 'poll';
          return;
        }
      }
      await idle(1_000);
    }
  }

  private async waitForResults(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (
      Date.now() < deadline &&
      this.users.some((u) => [...u.meals.values()].some((m) => m.resolvedAt === null))
    ) {
      await sleep(50);
    }
  }

  private dropSome(): void {
    // dropRatePerMinute spread over ten ticks a minute; terminate() sends no close frame.
    for (const socket of this.sockets) {
      if (
        socket.readyState === WebSocket.OPEN &&
        Math.random() < this.options.dropRatePerMinute / 10
      ) {
        this.drops++;
        socket.terminate();
      }
    }
  }

  private report(durationMs: number): SimulatorReport {
    const meals = this.users.flatMap((u) => [...u.meals.values()]);
    const latencies = meals
      .filter((m) => m.resolvedAt !== null)
      .map((m) => m.resolvedAt! - m.postedAt);
    const minutes = durationMs / 60_000;
    return {
      users: this.users.length,
      devices: this.users.length * this.options.devicesPerUser,
      durationMs,
      mealsPosted: meals.length,
      mealsResolved: latencies.length,
      realTimeDeliveryRate:
        meals.length === 0 ? 0 : meals.filter((m) => m.via === 'socket').length / meals.length,
      postToResultMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: latencies.length ? Math.max(...latencies) : Number.NaN,
      },
      pollingRequests: this.polls,
      pollingRequestsPerUserPerMinute:
        this.polls / Math.max(1, this.users.length) / Math.max(minutes, 1 / 60),
      sessionsWrongfullySwept: this.wrongfullySwept,
      reconnects: this.reconnects,
      drops: this.drops,
      foreignNotifications: this.users.reduce((sum, u) => sum + u.early.size, 0),
      receivedByUser: new Map(this.users.map((u) => [u.userId, u.received])),
    };
  }
}

export function formatReport(report: SimulatorReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : `${Math.round(x)} ms`);
  const rows: [string, string, string][] = [
    ['real-time delivery rate', pct(report.realTimeDeliveryRate), '100 %'],
    ['POST → result p50', ms(report.postToResultMs.p50), '< 1 s'],
    ['POST → result p95', ms(report.postToResultMs.p95), '< 1 s'],
    ['POST → result p99', ms(report.postToResultMs.p99), '< 1 s'],
    ['polling requests / user / minute', report.pollingRequestsPerUserPerMinute.toFixed(2), '0'],
    [
      'sessions wrongly seen offline (swept while pinging)',
      String(report.sessionsWrongfullySwept),
      '0',
    ],
    ['notifications of another user received', String(report.foreignNotifications), '0'],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max('measured'.length, ...rows.map((r) => r[1].length));
  return [
    `${report.users} users, ${report.devices} devices, ${report.mealsPosted} meals posted, ${report.mealsResolved} resolved, ` +
      `${(report.durationMs / 1000).toFixed(0)} s, ${report.reconnects} reconnects, ${report.drops} dropped connections`,
    '',
    `| ${'metric'.padEnd(width)} | ${'measured'.padEnd(valueWidth)} | target |`,
    `| ${'-'.repeat(width)} | ${'-'.repeat(valueWidth)} | ------ |`,
    ...rows.map(
      ([name, value, target]) =>
        `| ${name.padEnd(width)} | ${value.padEnd(valueWidth)} | ${target.padEnd(6)} |`,
    ),
  ].join('\n');
}
