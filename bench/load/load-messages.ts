import type { HistogramCounts } from '../harness/latency-histogram';
import type { Wire } from './wire-codec';

export interface TargetSpec {
  port: number;
  wire: Wire;
  jwtSecret: string;
  /** Every session of this target claims this device (default `d`); W7 gives each instance its own. */
  deviceId?: string;
}

/** What the orchestrator asks a load worker to do; each command gets exactly one reply. */
export type LoadCommand =
  | {
      cmd: 'open';
      target: TargetSpec;
      /** Global index of this worker's first session: user `bench-<index>`, device `d`. */
      firstIndex: number;
      count: number;
      /** Handshakes in flight at once. */
      concurrency: number;
      /** Answer the server's protocol pings (off for sessions that must go silent). */
      autoPong: boolean;
      /** Reconnect with jittered exponential back-off whenever the server drops a session. */
      reconnect: boolean;
    }
  | { cmd: 'ping'; kind: PingKind; inFlight: number; durationMs: number }
  | {
      cmd: 'heartbeat';
      /** Each session sends one protocol ping per interval, phases spread evenly. */
      intervalMs: number;
      durationMs: number;
      /** Every n-th session (by global index) stays silent; 0: none. */
      silentEvery: number;
    }
  | {
      cmd: 'await-welcomed';
      timeoutMs: number;
      /** Date.now() when the old server had exited: attempts begun before met the dying one. */
      since: number;
    }
  /**
   * Every session sends `frame`, then a JSON ping; the reply waits for every pong (a server
   * handles a session's frames in order, so the frame has been handled by then).
   */
  | { cmd: 'send-all'; frame: object; timeoutMs: number }
  /** Counters so far; `reset` starts the notification counters afresh (one rate step each). */
  | { cmd: 'collect'; reset?: boolean }
  | { cmd: 'close' };

export type PingKind = 'json' | 'protocol';

export interface OpenResult {
  opened: number;
  failed: number;
  elapsedMs: number;
}

export interface PingResult {
  completed: number;
  elapsedMs: number;
  rtt: { counts: HistogramCounts; max: number };
}

export type HeartbeatResult = PingResult & { sent: number };

export interface ReconnectResult {
  welcomed: number;
  /** Since the command arrived, until the last session was welcomed again. */
  elapsedMs: number;
  /** Upgrades begun since the old server exited, answered with an HTTP error status or reset. */
  failedUpgrades: number;
  /** Those failed upgrades by error code or message. */
  failureReasons: Record<string, number>;
  /** Attempts begun before the old server had exited that failed otherwise than refused. */
  failedAgainstTheOldServer: number;
  /** Connection attempts refused while the server was down (expected). */
  refused: number;
  handshakes: number;
}

export interface CollectResult {
  /** Pings this worker sent, of any kind, since it started. */
  pingsSent: number;
  /** Of those, the ones answered (pong received): the server surely counted each of them. */
  pingsAnswered: number;
  closesByCode: Record<string, number>;
  /** Sessions closed 4408 although they were not silent. */
  wronglySwept: number;
  silentSwept: number;
  /** Epoch ms of the first and last 4408 close, or null when there was none. */
  staleClosedAt: [number, number] | null;
  notifications: {
    latency: { counts: HistogramCounts; max: number };
    received: string[];
    duplicates: number;
  };
}

export interface SendAllResult {
  sent: number;
  elapsedMs: number;
}

export type LoadReply = { ok: true; result: unknown } | { ok: false; error: string };
