import { performance } from 'node:perf_hooks';
import { sign } from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { LatencyHistogram } from '../harness/latency-histogram';
import type {
  CollectResult,
  HeartbeatResult,
  LoadCommand,
  OpenResult,
  PingKind,
  PingResult,
  ReconnectResult,
  SendAllResult,
  TargetSpec,
} from './load-messages';
import { codecFor, InboundFrame, WireCodec } from './wire-codec';

type Command<K extends LoadCommand['cmd']> = Extract<LoadCommand, { cmd: K }>;

/** About 28k ephemeral ports per source address; 5,000 leaves room for reconnects in TIME_WAIT. */
const SESSIONS_PER_SOURCE_ADDRESS = 5_000;
const CLOSE_CODE_STALE = 4408;
const MAX_BACKOFF_MS = 30_000;
const BASE_BACKOFF_MS = 500;
/** How often the heartbeat workload sends the pings that have come due. */
const HEARTBEAT_TICK_MS = 20;

export function sourceAddress(index: number): string {
  return `127.0.0.${2 + Math.floor(index / SESSIONS_PER_SOURCE_ADDRESS)}`;
}

export function userIdOf(index: number): string {
  return `bench-${index}`;
}

interface LoadSession {
  readonly index: number;
  readonly token: string;
  socket: WebSocket | null;
  welcomed: boolean;
  silent: boolean;
  attempt: number;
  /** Send times of the pings still waiting for their answer, oldest first. */
  readonly pingSentAt: number[];
  /** Notification ids received, for duplicates; allocated on the first notification. */
  seen: Set<string> | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The sessions one load worker holds, and what it can make them do. Everything is driven by
 * commands from the orchestrator and bounded by counts and durations given in them.
 */
export class SessionPool {
  private readonly sessions: LoadSession[] = [];
  private target: TargetSpec | null = null;
  private codec: WireCodec | null = null;
  private autoPong = true;
  private reconnect = false;
  private closing = false;

  private readonly closesByCode = new Map<number, number>();
  private wronglySwept = 0;
  private silentSwept = 0;
  /** Each failed attempt (not refused) by when it began (Date.now()) and why. */
  private readonly failures: { begunAt: number; reason: string }[] = [];
  private refused = 0;
  private handshakes = 0;
  private onWelcome: (() => void) | null = null;

  private pingLoop: PingKind | null = null;
  private pingRtt = new LatencyHistogram();
  private pingsCompleted = 0;
  private pingsSent = 0;
  private pingsAnswered = 0;

  private staleClosedAt: [number, number] | null = null;
  private notificationLatency = new LatencyHistogram();
  private received: string[] = [];
  private duplicates = 0;

  async open(command: Command<'open'>): Promise<OpenResult> {
    this.target = command.target;
    this.codec = codecFor(command.target.wire);
    this.autoPong = command.autoPong;
    this.reconnect = command.reconnect;
    const exp = Math.floor(Date.now() / 1000) + 4 * 3600;
    for (let i = 0; i < command.count; i++) {
      const index = command.firstIndex + i;
      this.sessions.push({
        index,
        token: sign({ sub: userIdOf(index), exp }, command.target.jwtSecret, {
          algorithm: 'HS256',
        }),
        socket: null,
        welcomed: false,
        silent: false,
        attempt: 0,
        pingSentAt: [],
        seen: null,
      });
    }
    const started = performance.now();
    let next = 0;
    let opened = 0;
    const runner = async () => {
      while (next < this.sessions.length && !this.closing) {
        if (await this.connect(this.sessions[next++])) opened++;
      }
    };
    await Promise.all(Array.from({ length: command.concurrency }, runner));
    return {
      opened,
      failed: this.sessions.length - opened,
      elapsedMs: performance.now() - started,
    };
  }

  /** Closed loop: every session keeps `inFlight` pings outstanding for `durationMs`. */
  async ping(command: Command<'ping'>): Promise<PingResult> {
    this.pingRtt = new LatencyHistogram();
    this.pingsCompleted = 0;
    this.pingLoop = command.kind;
    const started = performance.now();
    for (const session of this.sessions) {
      for (let i = 0; i < command.inFlight; i++) this.sendPing(session, command.kind);
    }
    await sleep(command.durationMs);
    this.pingLoop = null;
    const result = {
      completed: this.pingsCompleted,
      elapsedMs: performance.now() - started,
      rtt: this.pingRtt.toJSON(),
    };
    await this.drainPings(5_000);
    return result;
  }

  /** Open loop: one ping per session per interval, spread evenly, as idle phones do. */
  async heartbeat(command: Command<'heartbeat'>): Promise<HeartbeatResult> {
    const kind: PingKind = this.codec?.protocolPings ? 'protocol' : 'json';
    this.pingRtt = new LatencyHistogram();
    this.pingsCompleted = 0;
    const sentBefore = this.pingsSent;
    for (const session of this.sessions) {
      session.silent = command.silentEvery > 0 && session.index % command.silentEvery === 0;
    }
    // Every session shows a sign of life at the start, so the silent ones all go stale together
    // (one sweep finds them all) and no live one has been quiet since it opened.
    for (const session of this.sessions) this.sendPing(session, kind);
    const started = performance.now();
    let cursor = 0;
    while (performance.now() - started < command.durationMs) {
      const elapsed = performance.now() - started;
      const due = Math.floor((elapsed / command.intervalMs) * this.sessions.length);
      for (; cursor < due; cursor++) {
        const session = this.sessions[cursor % this.sessions.length];
        if (!session.silent) this.sendPing(session, kind);
      }
      await sleep(HEARTBEAT_TICK_MS);
    }
    await this.drainPings(5_000);
    return {
      completed: this.pingsCompleted,
      sent: this.pingsSent - sentBefore,
      elapsedMs: performance.now() - started,
      rtt: this.pingRtt.toJSON(),
    };
  }

  /** Waits until every session is welcomed (again); used after the server was restarted. */
  async awaitWelcomed(command: Command<'await-welcomed'>): Promise<ReconnectResult> {
    const started = performance.now();
    const refusedBefore = this.refused;
    const handshakesBefore = this.handshakes;
    const allBack = () => this.sessions.every((s) => s.welcomed);
    if (!allBack()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, command.timeoutMs);
        this.onWelcome = () => {
          if (!allBack()) return;
          clearTimeout(timer);
          resolve();
        };
      });
      this.onWelcome = null;
    }
    return {
      welcomed: this.sessions.filter((s) => s.welcomed).length,
      elapsedMs: performance.now() - started,
      ...failuresSince(this.failures, command.since),
      refused: this.refused - refusedBefore,
      handshakes: this.handshakes - handshakesBefore,
    };
  }

  async sendAll(command: Command<'send-all'>): Promise<SendAllResult> {
    const started = performance.now();
    let sent = 0;
    for (const session of this.sessions) {
      const socket = session.socket;
      if (!socket || !session.welcomed || socket.readyState !== WebSocket.OPEN) continue;
      socket.send(this.codec!.encode(command.frame));
      this.sendPing(session, 'json');
      sent++;
    }
    await this.drainPings(command.timeoutMs);
    return { sent, elapsedMs: performance.now() - started };
  }

  collect(command: Command<'collect'>): CollectResult {
    const result = {
      closesByCode: Object.fromEntries(this.closesByCode),
      wronglySwept: this.wronglySwept,
      silentSwept: this.silentSwept,
      staleClosedAt: this.staleClosedAt,
      pingsSent: this.pingsSent,
      pingsAnswered: this.pingsAnswered,
      notifications: {
        latency: this.notificationLatency.toJSON(),
        received: this.received,
        duplicates: this.duplicates,
      },
    };
    if (command.reset) {
      this.notificationLatency = new LatencyHistogram();
      this.received = [];
      this.duplicates = 0;
    }
    return result;
  }

  close(): void {
    this.closing = true;
    for (const session of this.sessions) session.socket?.terminate();
  }

  private connect(session: LoadSession): Promise<boolean> {
    const { port, wire, deviceId = 'd' } = this.target!;
    const codec = this.codec!;
    const separator = codec.path.includes('?') ? '&' : '?';
    this.handshakes++;
    const begunAt = Date.now();
    session.welcomed = false;
    session.pingSentAt.length = 0;
    return new Promise<boolean>((resolve) => {
      const socket = new WebSocket(
        `ws://127.0.0.1:${port}${codec.path}${separator}deviceId=${deviceId}`,
        {
          headers: { authorization: `Bearer ${session.token}` },
          perMessageDeflate: false,
          localAddress: sourceAddress(session.index),
          autoPong: this.autoPong,
          handshakeTimeout: 30_000,
        },
      );
      session.socket = socket;
      socket.on('message', (data: Buffer) => {
        const frame = codec.decode(socket, data.toString());
        if (frame && this.onFrame(session, frame)) resolve(true);
      });
      socket.on('pong', () => this.completePing(session));
      socket.on('error', (error: Error & { code?: string }) => {
        if (error.code === 'ECONNREFUSED') this.refused++;
        else if (!session.welcomed) {
          this.failures.push({ begunAt, reason: error.code ?? error.message });
        }
      });
      socket.on('close', (code: number) => {
        const wasWelcomed = session.welcomed;
        session.socket = null;
        session.welcomed = false;
        resolve(false);
        if (wasWelcomed) this.recordClose(session, code);
        if (this.reconnect && !this.closing && !(wire === 'mealpulse' && code === 4409)) {
          this.scheduleReconnect(session);
        }
      });
    });
  }

  /** Full jitter: random(0, min(30 s, 0.5 s × 2^attempt)), as docs/websocket-protocol.md says. */
  private scheduleReconnect(session: LoadSession): void {
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** session.attempt);
    session.attempt++;
    setTimeout(() => {
      if (!this.closing) void this.connect(session);
    }, Math.random() * ceiling);
  }

  private recordClose(session: LoadSession, code: number): void {
    this.closesByCode.set(code, (this.closesByCode.get(code) ?? 0) + 1);
    if (code !== CLOSE_CODE_STALE) return;
    const now = Date.now();
    this.staleClosedAt = this.staleClosedAt ? [this.staleClosedAt[0], now] : [now, now];
    if (session.silent) this.silentSwept++;
    else this.wronglySwept++;
  }

  /** Returns true for the welcome frame. */
  private onFrame(session: LoadSession, frame: InboundFrame): boolean {
    switch (frame.type) {
      case 'welcome':
        session.welcomed = true;
        session.attempt = 0;
        this.onWelcome?.();
        return true;
      case 'pong':
        this.completePing(session);
        return false;
      case 'notification':
        this.onNotification(session, frame);
        return false;
      default:
        return false;
    }
  }

  private onNotification(session: LoadSession, frame: InboundFrame): void {
    const data = frame.data as { id: string; completedAt: string | null };
    const id = String(frame.id);
    session.seen ??= new Set();
    if (session.seen.has(id)) {
      this.duplicates++;
    } else {
      session.seen.add(id);
      this.received.push(data.id);
      if (data.completedAt)
        this.notificationLatency.recordMillis(Date.now() - Date.parse(data.completedAt));
    }
    session.socket?.send(this.codec!.encode({ type: 'ack', seq: frame.seq }));
  }

  private sendPing(session: LoadSession, kind: PingKind): void {
    const socket = session.socket;
    if (!socket || !session.welcomed || socket.readyState !== WebSocket.OPEN) return;
    session.pingSentAt.push(performance.now());
    this.pingsSent++;
    if (kind === 'protocol') socket.ping();
    else socket.send(this.codec!.encode({ type: 'ping' }));
  }

  private completePing(session: LoadSession): void {
    const sentAt = session.pingSentAt.shift();
    if (sentAt === undefined) return;
    this.pingRtt.recordMillis(performance.now() - sentAt);
    this.pingsCompleted++;
    this.pingsAnswered++;
    if (this.pingLoop) this.sendPing(session, this.pingLoop);
  }

  private async drainPings(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && this.sessions.some((s) => s.pingSentAt.length > 0)) {
      await sleep(20);
    }
  }
}

/**
 * The failures of attempts begun at or after `since` (the old server's exit), by reason; those
 * begun before met the dying process, not the restarted one. By when an attempt began, not when
 * its error was handled: a busy worker may handle the crash's resets after the restart.
 */
export function failuresSince(
  failures: readonly { begunAt: number; reason: string }[],
  since: number,
): Pick<ReconnectResult, 'failedUpgrades' | 'failureReasons' | 'failedAgainstTheOldServer'> {
  const reasons: Record<string, number> = {};
  let failedUpgrades = 0;
  for (const { begunAt, reason } of failures) {
    if (begunAt < since) continue;
    failedUpgrades++;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return {
    failedUpgrades,
    failureReasons: reasons,
    failedAgainstTheOldServer: failures.length - failedUpgrades,
  };
}
