import { randomBytes } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { RestClient } from '../contracts/rest-client';
import { readFrame, sendFrame } from '../contracts/ws-frames';
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
  /**
   * Share of users (0-1) whose app goes to the background right after each post, as a user who
   * locks the phone and waits: it says so (`app_state`), iOS suspends it a second later (no more
   * pings, nothing read), and the user opens it again `backgroundForMs` later (±50 %), when it
   * reconnects with `after`.
   */
  backgroundShare?: number;
  backgroundForMs?: number;
  /**
   * Share of users (0-1) who denied the app notifications: their devices register no push
   * token. Taken from the same end of the user list as the backgrounding ones, so with a smaller
   * share than `backgroundShare` they are backgrounding users whose results wait for their return.
   */
  pushDeniedShare?: number;
  /**
   * The APNs peer the server pushes to (a local one: see tools/apns-peer). With it every device
   * registers a push token, and a push the peer accepted for a meal counts as its delivery.
   */
  pushPeer?: { readonly requests: readonly PushRequest[] };
}

/** What the simulator reads of a request the APNs peer received. */
export interface PushRequest {
  at: number;
  deviceToken: string | null;
  status: number;
  payload: unknown;
}

/** How a meal's result first reached the user. */
export type Delivery = 'socket' | 'push' | 'replay' | 'poll';

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
  /**
   * Meals whose result reached the user in real time (socket in the foreground, or push), of
   * those that could: a backgrounded app whose user denied notifications waits for the return.
   */
  realTimeDeliveryRate: number;
  /** Meals by how their result first reached the user; `never` must be 0. */
  deliveredBy: Record<Delivery | 'never', number>;
  backgroundUsers: number;
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
  /** When and how it first arrived other than by push (pushes are read from the peer). */
  resolvedAt: number | null;
  via: Exclude<Delivery, 'push'> | null;
  /** Posted by a user who then put the app in the background: no polling, no socket. */
  background: boolean;
}

interface SimUser {
  userId: string;
  token: string;
  meals: Map<string, Meal>;
  /** Results that arrived before their POST answered (meal id → when): matched when it does. */
  early: Map<string, number>;
  received: Set<string>;
  /** The highest seq the app processed: its `after` when it reconnects. */
  lastSeq: number;
  /** Goes to the background after each post (see `backgroundShare`). */
  background: boolean;
  /** In the background now: frames are not processed, no reconnects, no posts. */
  away: boolean;
  /** Notifications denied: no device registers a push token. */
  pushDenied: boolean;
  /** The push tokens of the user's devices. */
  tokens: Set<string>;
  /** Meals whose notification reached one of the user's sockets, processed or not. */
  onSocket: Set<string>;
}

/** How long iOS lets an app run after it left the foreground before suspending it. */
const SUSPEND_AFTER_MS = 1_000;

/** A live device connection, as the app's lifecycle needs it. */
interface DeviceSocket {
  socket: WebSocket;
  suspend: () => void;
  /** Resolved by the next `pong`: the server has handled every frame sent before the ping. */
  pongs: (() => void)[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A wait that does not keep the process alive once the run is over. */
const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Behaves like the iOS app for many users at once: one WebSocket per device with protocol pings
 * at the app's interval, meals posted over REST, results expected over the socket, acks, and
 * reconnects with jittered back-off; polling only as the fallback. Reports how each result
 * reached its user (socket, push, on return, polling, never).
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
  private readonly live = new Map<SimUser, Set<DeviceSocket>>();
  /** Meal id → when the peer accepted its first push to one of the user's devices. */
  private readonly pushedAt = new Map<string, number>();
  private pushRequestsSeen = 0;

  private readonly rest: RestClient;

  constructor(private readonly options: SimulatorOptions) {
    this.rest = new RestClient(options.url);
  }

  async run(): Promise<SimulatorReport> {
    const { users, devicesPerUser, durationMs } = this.options;
    const backgroundUsers = Math.round(users * (this.options.backgroundShare ?? 0));
    const pushDenied = Math.round(users * (this.options.pushDeniedShare ?? 0));
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
        background: i < backgroundUsers,
        pushDenied: i < pushDenied,
        away: false,
        tokens: new Set(),
        onSocket: new Set(),
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
      resolved: meals.filter((m) => this.firstDelivery(m) !== null).length,
      viaSocket: meals.filter((m) => m.via === 'socket').length,
      polls: this.polls,
    };
  }

  /** How and when a meal's result first reached the user, or null while it has not. */
  private firstDelivery(meal: Meal): { at: number; via: Delivery } | null {
    this.readPushes();
    const pushedAt = this.pushedAt.get(meal.id);
    if (pushedAt !== undefined && (meal.resolvedAt === null || pushedAt < meal.resolvedAt))
      return { at: pushedAt, via: 'push' };
    return meal.resolvedAt === null || meal.via === null
      ? null
      : { at: meal.resolvedAt, via: meal.via };
  }

  /** Takes the peer's new requests: accepted pushes to a device of the meal's own user. */
  private readPushes(): void {
    const requests = this.options.pushPeer?.requests ?? [];
    for (; this.pushRequestsSeen < requests.length; this.pushRequestsSeen++) {
      const request = requests[this.pushRequestsSeen];
      const mealLogId = (request.payload as { mealLogId?: unknown } | undefined)?.mealLogId;
      if (request.status !== 200 || typeof mealLogId !== 'string') continue;
      const owner = this.users.find((u) => u.meals.has(mealLogId) || u.early.has(mealLogId));
      if (!owner || !owner.tokens.has(request.deviceToken ?? '')) continue;
      if (!this.pushedAt.has(mealLogId)) this.pushedAt.set(mealLogId, request.at);
    }
  }

  /** One device: connect, ping, ack, and reconnect with back-off until the run ends. */
  private async device(user: SimUser, deviceId: string, until: number): Promise<void> {
    let attempt = 0;
    const token = randomBytes(32).toString('hex');
    while (!this.stopped && Date.now() < until + this.options.fallbackAfterMs * 3) {
      // A suspended app does not reconnect; it does once the user opens it again.
      while (user.away && !this.stopped) await sleep(100);
      if (this.stopped) return;
      const opened = await this.session(user, deviceId, token);
      if (this.stopped) return;
      attempt = opened ? 0 : attempt + 1;
      this.reconnects++;
      // Full jitter, capped: a storm of reconnecting phones spreads itself out.
      await sleep(Math.random() * Math.min(30_000, 500 * 2 ** attempt));
    }
  }

  /** Resolves when the socket closes; true if it had opened. */
  private session(user: SimUser, deviceId: string, token: string): Promise<boolean> {
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
      let openedAt = Number.POSITIVE_INFINITY;
      let pinger: NodeJS.Timeout | undefined;
      const device: DeviceSocket = {
        socket,
        // iOS suspends the app: no pings, no pongs, nothing read until the user comes back.
        suspend: () => {
          clearInterval(pinger);
          socket.pause();
        },
        pongs: [],
      };
      socket.on('open', () => {
        opened = true;
        openedAt = Date.now();
        this.connected++;
        pinger = setInterval(() => socket.ping(), this.options.pingIntervalMs);
        this.liveOf(user).add(device);
        if (this.options.pushPeer && !user.pushDenied && !user.tokens.has(token))
          void this.registerToken(user, deviceId, token);
      });
      socket.on('message', (data: Buffer) => this.onFrame(user, device, data.toString(), openedAt));
      socket.on('error', () => undefined);
      socket.on('close', (code) => {
        if (opened) this.connected--;
        if (code === 4408 && !user.away) this.wrongfullySwept++;
        clearInterval(pinger);
        this.sockets.delete(socket);
        this.liveOf(user).delete(device);
        resolve(opened);
      });
    });
  }

  private liveOf(user: SimUser): Set<DeviceSocket> {
    let live = this.live.get(user);
    if (!live) this.live.set(user, (live = new Set()));
    return live;
  }

  private async registerToken(user: SimUser, deviceId: string, token: string): Promise<void> {
    if (await this.rest.putPushToken(user.token, deviceId, { token })) user.tokens.add(token);
  }

  /**
   * The user locks the phone with the post still to go out: the app tells the server on every
   * socket and waits for a `pong` (the server handles a socket's frames in order), so the post
   * finds the app in the background, as one sent from a background task does.
   */
  private async leaveForeground(user: SimUser): Promise<void> {
    user.away = true;
    await Promise.all(
      [...this.liveOf(user)]
        .filter(({ socket }) => socket.readyState === WebSocket.OPEN)
        .map(
          (device) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 2_000);
              device.pongs.push(() => {
                clearTimeout(timer);
                resolve();
              });
              sendFrame(device.socket, { type: 'app_state', state: 'background' });
              sendFrame(device.socket, { type: 'ping' });
            }),
        ),
    );
  }

  /**
   * iOS suspends the app a second after it left, and the user opens it again after a while: its
   * sockets, torn down by iOS meanwhile, reconnect with `after` and replay what they missed.
   */
  private async suspendUntilReturn(user: SimUser): Promise<void> {
    await sleep(SUSPEND_AFTER_MS);
    const suspended = [...this.liveOf(user)];
    for (const device of suspended) device.suspend();
    const awayMs = this.options.backgroundForMs ?? 20_000;
    await sleep(awayMs * (0.5 + Math.random()));
    for (const { socket } of suspended) socket.terminate();
    user.away = false;
  }

  private onFrame(
    user: SimUser,
    device: DeviceSocket,
    text: string,
    sessionOpenedAt: number,
  ): void {
    const frame = readFrame(text);
    if (frame.type === 'pong') device.pongs.shift()?.();
    if (frame.type !== 'notification') return;
    user.received.add(frame.id);
    user.onSocket.add(frame.data.id);
    // In the background the app does not process frames (the push is what the user sees), and
    // does not ack them: the server's push decision and the replay on return stay the judges.
    if (user.away) return;
    user.lastSeq = Math.max(user.lastSeq, frame.seq);
    const meal = user.meals.get(frame.data.id);
    // Created before this session opened: it came with the replay.
    const via = Date.parse(frame.createdAt) < sessionOpenedAt ? 'replay' : 'socket';
    // A fast result can beat its own POST's answer; anything never claimed is another's.
    if (!meal) user.early.set(frame.data.id, Date.now());
    else if (meal.resolvedAt === null) {
      meal.resolvedAt = Date.now();
      meal.via = via;
    }
    sendFrame(device.socket, { type: 'ack', seq: frame.seq });
  }

  private async postMeals(user: SimUser, started: number, durationMs: number): Promise<void> {
    // Spread each user's meals over the first 80 % of the run, with a per-user offset.
    const spacing = (durationMs * 0.8) / Math.max(1, this.options.mealsPerUser);
    await sleep(Math.random() * spacing);
    for (let i = 0; i < this.options.mealsPerUser && !this.stopped; i++) {
      const due = started + i * spacing + Math.random() * spacing * 0.5;
      if (due > Date.now()) await sleep(due - Date.now());
      // The user posts with the app open.
      while (user.away && !this.stopped) await sleep(100);
      if (user.background) await this.leaveForeground(user);
      await this.postMeal(user, i);
      if (user.background) await this.suspendUntilReturn(user);
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
    const background = user.background;
    const { id } = await this.rest.postMeal(
      user.token,
      { text: texts[index % texts.length] },
      `${user.userId}-${index}`,
    );
    const early = user.early.get(id);
    user.early.delete(id);
    const meal: Meal = early
      ? { id, postedAt, resolvedAt: early, via: 'socket', background }
      : { id, postedAt, resolvedAt: null, via: null, background };
    user.meals.set(id, meal);
    if (!early && !background) void this.fallback(user, meal);
  }

  /** The app's safety net: poll only when the socket did not deliver within the window. */
  private async fallback(user: SimUser, meal: Meal): Promise<void> {
    await idle(this.options.fallbackAfterMs);
    while (this.firstDelivery(meal) === null && !this.stopped) {
      this.polls++;
      const log = await this.rest.getMealLog(user.token, meal.id);
      if (log !== null) {
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
    // Resolved, and on a socket too (a pushed one arrives with the replay when the user returns):
    // the ledger counts what the sockets received.
    while (
      Date.now() < deadline &&
      this.users.some((u) =>
        [...u.meals.values()].some((m) => this.firstDelivery(m) === null || !u.onSocket.has(m.id)),
      )
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
    const deliveries = meals.map((meal) => ({ meal, first: this.firstDelivery(meal) }));
    const deliveredBy: Record<Delivery | 'never', number> = {
      socket: 0,
      push: 0,
      replay: 0,
      poll: 0,
      never: 0,
    };
    for (const { first } of deliveries) deliveredBy[first?.via ?? 'never']++;
    // The latency of a real-time result; a replay waits for the user, not for the server.
    const latencies = deliveries
      .filter(({ first }) => first !== null && first.via !== 'replay')
      .map(({ meal, first }) => first!.at - meal.postedAt);
    const minutes = durationMs / 60_000;
    const reachable = this.users
      .filter((u) => !(u.background && u.pushDenied))
      .reduce((sum, u) => sum + u.meals.size, 0);
    return {
      users: this.users.length,
      devices: this.users.length * this.options.devicesPerUser,
      durationMs,
      mealsPosted: meals.length,
      mealsResolved: meals.length - deliveredBy.never,
      realTimeDeliveryRate:
        reachable === 0 ? 0 : (deliveredBy.socket + deliveredBy.push) / reachable,
      deliveredBy,
      backgroundUsers: this.users.filter((u) => u.background).length,
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
  const share = (n: number) =>
    `${n} (${pct(report.mealsPosted === 0 ? 0 : n / report.mealsPosted)})`;
  const rows: [string, string, string][] = [
    [
      'real-time delivery rate (socket, or push where allowed)',
      pct(report.realTimeDeliveryRate),
      '100 %',
    ],
    ['delivered by socket', share(report.deliveredBy.socket), ''],
    ['delivered by push', share(report.deliveredBy.push), ''],
    ['delivered on return (replay)', share(report.deliveredBy.replay), ''],
    ['delivered by polling', share(report.deliveredBy.poll), '0'],
    ['never delivered', String(report.deliveredBy.never), '0'],
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
    `${report.users} users (${report.backgroundUsers} going to the background), ${report.devices} devices, ${report.mealsPosted} meals posted, ${report.mealsResolved} resolved, ` +
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
