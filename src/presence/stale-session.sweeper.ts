import { Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { errorFields } from '../logging/safe-error';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ScheduledTask } from '../common/scheduled-task';
import { retryDelayMs } from '../common/retry-policy';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { INSTANCE_DEAD_AFTER_BEATS } from './instance-heartbeat';
import type { LiveSession } from './live-session';
import { shardsOfSlot } from './local-sessions';
import { PresenceService } from './presence.service';
import { SessionAuditRepository } from './session-audit.repository';
import { SessionAuditWriter } from './session-audit.writer';
import { SessionConnections } from './session-connections';

/**
 * The slices of the session shards a sweep looks at, one per turn of the event loop: at 19,000
 * sessions about 400 looked at per turn (well under a millisecond).
 */
const SWEEP_SLOTS = 50;
/**
 * Stale sessions a turn ends and closes at most. Ending one costs far more than looking at it:
 * its close frame, the client's answer, the socket's teardown and its audit row, most of it in
 * the turns that follow. At 40 to a turn, 1,900 stale sessions of 19,000 keep every turn of the
 * event loop busy for 10-20 ms while they close; at 10, the longest stall is about 10 ms, half
 * of it or more a young-generation garbage collection (W6).
 */
const ENDS_PER_TURN = 10;
/**
 * After a turn that ended sessions, the next waits this long, so a sweep closes at most
 * ENDS_PER_TURN sessions per this many milliseconds (1,000 a second). Closing is not over when
 * the turn is: the close frames, the clients' answers and the sockets' teardown land in the
 * turns that follow, and back to back turns of ends piled them into stalls of 30 ms and more
 * (W6); the 1,900 stale sessions of 19,000 then take about two seconds to close.
 */
const END_PACE_MS = 10;
/** A stale peer that has not answered the close frame by then is terminated... */
const TERMINATE_AFTER_MS = 1_000;
/** ...each turn's closes this much later than the turn before. */
const TERMINATE_SPREAD_MS = 2;
/** A start-up sweep that failed is tried again this much later, doubling up to the interval. */
const START_UP_RETRY_BASE_MS = 500;

/**
 * What turn `turn` of a sweep does: it ends the stale sessions found so far from the `ended`th up
 * to (not including) `endTo`, at most `endsPerTurn`, then looks at slot `slot` of the shards' `slots`
 * slices (null once each has been looked at). Null: the sweep is over.
 */
export function sweepTurn(
  turn: number,
  slots: number,
  found: number,
  ended: number,
  endsPerTurn: number,
): { endTo: number; slot: number | null } | null {
  const slot = turn < slots ? turn : null;
  const endTo = Math.min(found, ended + endsPerTurn);
  return slot === null && endTo === ended ? null : { endTo, slot };
}

/**
 * Every PRESENCE_SWEEP_INTERVAL_MS: closes (4408) and audits the sessions that have been silent
 * for PRESENCE_STALE_AFTER_MS, and audits as `lost` the open sessions of instances that died
 * (InstanceHeartbeat tells them apart). Every statement only changes rows still open, so any
 * number of instances can sweep at once without writing an ending twice.
 */
@Injectable()
export class StaleSessionSweeper extends ScheduledTask<void> {
  private readonly logger = new Logger(StaleSessionSweeper.name);
  private stopped = false;
  private startUpRetry: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly presence: PresenceService,
    private readonly connections: SessionConnections,
    private readonly audit: SessionAuditWriter,
    private readonly auditRepository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
  ) {
    super(scheduler, 'stale-session-sweep', config.presence.sweepIntervalMs);
  }

  override onApplicationBootstrap(): void {
    void this.sweepAtStartUp();
    super.onApplicationBootstrap();
  }

  override beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.startUpRetry) clearTimeout(this.startUpRetry);
    return super.beforeApplicationShutdown();
  }

  /**
   * The first run closes the sessions a previous, killed process left open: until it succeeds it
   * is tried again with back-off (up to the sweep interval), each failure logged. Never rejects.
   */
  private async sweepAtStartUp(attempt = 1): Promise<void> {
    if (this.stopped) return;
    try {
      await this.runOnce();
    } catch (error) {
      if (this.stopped) return;
      const delayMs = Math.min(
        retryDelayMs(attempt, START_UP_RETRY_BASE_MS),
        this.config.presence.sweepIntervalMs,
      );
      this.logger.error(
        { attempt, retryInMs: delayMs, ...errorFields(error) },
        'start-up sweep failed; retrying',
      );
      this.startUpRetry = setTimeout(() => void this.sweepAtStartUp(attempt + 1), delayMs);
    }
  }

  protected async run(): Promise<void> {
    // Looking at thousands of sessions, and closing thousands of sockets, in one turn would hold
    // up every other session: a slice of the shards per turn of the event loop, all judged
    // against the same moment, and at most ENDS_PER_TURN of the stale sessions found ended and
    // closed per turn; the terminations of peers that never answer (most stale peers) are spread
    // so that they do not all fall due in the same timer tick either. The first turn comes after
    // the event loop's next read of the sockets: after a busy stretch, the sweep's timer fires
    // before the frames that arrived meanwhile are read, and their sessions would look silent.
    let now = 0;
    let stale = 0;
    const found: LiveSession[] = [];
    let ended = 0;
    let endedLastTurn = false;
    for (let turn = 0; ; turn++) {
      await new Promise((resolve) =>
        endedLastTurn ? setTimeout(resolve, END_PACE_MS) : setImmediate(resolve),
      );
      if (turn === 0) now = Date.now();
      const plan = sweepTurn(turn, SWEEP_SLOTS, found.length, ended, ENDS_PER_TURN);
      if (plan === null) break;
      const ending = found.slice(ended, plan.endTo);
      endedLastTurn = ending.length > 0;
      ended = plan.endTo;
      for (const session of this.presence.endStale(ending, now)) {
        this.connections.closeFor(
          session,
          'stale',
          TERMINATE_AFTER_MS + turn * TERMINATE_SPREAD_MS,
        );
        stale++;
      }
      if (plan.slot !== null)
        found.push(...this.presence.staleIn(shardsOfSlot(plan.slot, SWEEP_SLOTS), now));
    }
    let lost = 0;
    try {
      await this.audit.flush();
      lost = await this.auditRepository.closeLostSessions(
        this.instance.id,
        INSTANCE_DEAD_AFTER_BEATS * this.config.presence.sweepIntervalMs,
      );
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn('database unavailable; audit catches up on a later sweep');
    }
    this.logger.log(
      {
        stale,
        lost,
        live: this.presence.sessionCount,
        pendingAudit: this.audit.pendingWrites,
      },
      `swept ${stale} stale session(s), ${lost} lost`,
    );
  }
}
