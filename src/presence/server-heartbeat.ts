import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { LocalSessions, SESSION_SHARDS, shardsOfSlot } from './local-sessions';
import { SessionConnections } from './session-connections';

/** The heartbeat ticks at most this often (and at most once per session shard per interval). */
const MIN_TICK_MS = 10;

/**
 * How the heartbeat spreads its pings over an interval: one tick every `tickMs`, each pinging
 * the sessions of one of `slots` slots, so every session is pinged once per interval.
 */
export function heartbeatSchedule(intervalMs: number): { tickMs: number; slots: number } {
  const tickMs = Math.min(
    intervalMs,
    Math.max(MIN_TICK_MS, Math.floor(intervalMs / SESSION_SHARDS)),
  );
  // Rounded down: a session is pinged at least as often as the interval asks, never less.
  return { tickMs, slots: Math.max(1, Math.floor(intervalMs / tickMs)) };
}

/**
 * The slots a tick pings, by the clock: every slot whose turn (`tickMs` apart, counted from the
 * start) came after `doneTurns` and by `dueTurns`, or each slot once when more than a whole round
 * is due. Ticks run late while the event loop is busy: pinging one slot per tick would stretch
 * every session's interval by as much as each tick is late (10 ms ticks run every 75 ms make a
 * 100 ms interval 750 ms, past the stale window of a client that only answers pings).
 */
export function slotsDue(doneTurns: number, dueTurns: number, slots: number): number[] {
  const due: number[] = [];
  for (let turn = Math.max(doneTurns, dueTurns - slots); turn < dueTurns; turn++)
    due.push(turn % slots);
  return due;
}

/**
 * Sends every session a protocol ping each WS_HEARTBEAT_INTERVAL_MS (the client's pong refreshes
 * its presence, so a client that only answers pings stays online), spread over the interval: at
 * 19,000 sessions, pinging them all at once would hold the event loop for hundreds of
 * milliseconds (a socket write each) and bring every pong, and every lease renewal, back in one
 * burst.
 */
@Injectable()
export class ServerHeartbeat implements OnApplicationBootstrap {
  /** The turns pinged so far (see `slotsDue`), counted from `startedAt`. */
  private doneTurns = 0;
  private startedAt = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly local: LocalSessions,
    private readonly connections: SessionConnections,
  ) {}

  onApplicationBootstrap(): void {
    const { tickMs, slots } = heartbeatSchedule(this.config.ws.heartbeatIntervalMs);
    this.startedAt = performance.now();
    this.scheduler.addInterval(
      'server-heartbeat',
      setInterval(() => this.tick(tickMs, slots), tickMs),
    );
  }

  private tick(tickMs: number, slots: number): void {
    // The first tick, tickMs after the start, is the first turn's (slot 0).
    const dueTurns = Math.floor((performance.now() - this.startedAt) / tickMs);
    for (const slot of slotsDue(this.doneTurns, dueTurns, slots)) {
      // Only the slot's own shards: scanning all 19,000 sessions to pick out a slot's, on every
      // tick, would cost a fifth of an instance's CPU.
      for (const shard of shardsOfSlot(slot, slots)) {
        for (const session of this.local.inShard(shard)) this.connections.ping(session);
      }
    }
    this.doneTurns = Math.max(this.doneTurns, dueTurns);
  }
}
