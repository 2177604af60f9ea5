import { Injectable, MessageEvent, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { ServiceInstance } from '../common/service-instance';
import { PresenceService } from '../presence/presence.service';
import type { PresenceChange } from '../presence/presence-change';
import { PresenceChanges } from '../presence/presence-changes';
import { ADMIN_WATCH_TOPIC, PRESENCE_CHANGES_TOPIC } from './admin-events.topics';
import type { PresenceSnapshot } from './admin-events.types';
import { AdminStatsSampler } from './admin-stats.sampler';

/** Users in the stream's opening snapshot, at most (the busiest deployment's list is paged by the REST route). */
export const SNAPSHOT_USERS = 500;
/** While admins watch here, the other instances are told so this often... */
const WATCH_ANNOUNCE_MS = 10_000;
/** ...and relay their changes for this long after the last time they were told. */
const WATCH_HEARD_FOR_MS = 3 * WATCH_ANNOUNCE_MS;
/** An instance's changes go to the others at most this often, in one message. */
const RELAY_EVERY_MS = 100;
/**
 * A fresh snapshot this often: it brings `lastSeenAt` and ping counts up to date (a ping is not
 * an event), and keeps proxies from closing a quiet stream.
 */
export const SNAPSHOT_EVERY_MS = 15_000;

/** One open stream, as the feed sees it. */
interface Watcher {
  next(event: MessageEvent): void;
  complete(): void;
}

/**
 * The admin console's live feed: a snapshot of who is online, then every presence change as it
 * happens, on every instance (the others relay theirs through the cluster bus while someone
 * watches anywhere), and a stats sample every few seconds. Nobody watching costs nothing.
 */
@Injectable()
export class AdminEventsService implements OnModuleInit, OnModuleDestroy {
  private readonly watchers = new Set<Watcher>();
  /** Until when another instance has admins watching (epoch ms). */
  private remoteWatchUntil = 0;
  private stopWatchingChanges: (() => void) | null = null;
  private stopWatchingStats: (() => void) | null = null;
  private relayQueue: PresenceChange[] = [];
  private relayTimer: NodeJS.Timeout | null = null;
  private announceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly presence: PresenceService,
    private readonly changes: PresenceChanges,
    private readonly sampler: AdminStatsSampler,
    private readonly bus: ClusterBus,
    private readonly instance: ServiceInstance,
  ) {}

  onModuleInit(): void {
    this.bus.on(ADMIN_WATCH_TOPIC, () => {
      this.remoteWatchUntil = Date.now() + WATCH_HEARD_FOR_MS;
      this.updateWatch();
    });
    this.bus.on(PRESENCE_CHANGES_TOPIC, ({ changes }) => {
      for (const change of changes) this.send(change.type, change);
    });
  }

  /** Ends every stream, so the HTTP server's close is not held by them. */
  onModuleDestroy(): void {
    for (const watcher of [...this.watchers]) watcher.complete();
    this.remoteWatchUntil = 0;
    this.updateWatch();
  }

  /** One admin's stream: the snapshot, then changes and samples until they leave. */
  stream(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      // Changes that happen while a snapshot is read are sent after it, so none is lost.
      let held: MessageEvent[] | null = [];
      const watcher: Watcher = {
        next: (event) => (held === null ? subscriber.next(event) : held.push(event)),
        complete: () => subscriber.complete(),
      };
      const sendSnapshot = (): void => {
        held ??= [];
        this.snapshot()
          .then((snapshot) => {
            subscriber.next({ type: 'snapshot', data: snapshot });
            const events = held ?? [];
            held = null;
            for (const event of events) subscriber.next(event);
          })
          .catch((error: unknown) => subscriber.error(error));
      };
      this.watchers.add(watcher);
      this.updateWatch();
      sendSnapshot();
      const refresh = setInterval(sendSnapshot, SNAPSHOT_EVERY_MS);
      return () => {
        clearInterval(refresh);
        this.watchers.delete(watcher);
        this.updateWatch();
      };
    });
  }

  private async snapshot(): Promise<PresenceSnapshot> {
    const now = Date.now();
    const overview = await this.presence.overview(SNAPSHOT_USERS, now);
    return {
      at: new Date(now).toISOString(),
      instanceId: this.instance.id,
      onlineUsers: overview.onlineUsers,
      sessions: overview.sessions,
      users: overview.users.map((user) => ({
        userId: user.userId,
        lastSeenAt: new Date(user.lastSeenAt).toISOString(),
        sessions: user.sessions,
      })),
      stats: this.sampler.history(),
    };
  }

  private send(type: string, data: object): void {
    for (const watcher of this.watchers) watcher.next({ type, data });
  }

  /**
   * Watches this instance's changes while anyone watches anywhere, and tells the other instances
   * while someone watches here.
   */
  private updateWatch(): void {
    const local = this.watchers.size > 0;
    const anywhere = local || this.remoteWatchUntil > Date.now();
    if (anywhere && this.stopWatchingChanges === null) {
      this.stopWatchingChanges = this.changes.watch((change) => this.changed(change));
    } else if (!anywhere && this.stopWatchingChanges !== null) {
      this.stopWatchingChanges();
      this.stopWatchingChanges = null;
    }
    if (local && this.stopWatchingStats === null) {
      this.stopWatchingStats = this.sampler.watch((sample) => this.send('stats', sample));
    } else if (!local && this.stopWatchingStats !== null) {
      this.stopWatchingStats();
      this.stopWatchingStats = null;
    }
    if (anywhere && this.announceTimer === null) {
      this.announceTimer = setInterval(() => this.announce(), WATCH_ANNOUNCE_MS).unref();
      this.announce();
    } else if (!anywhere && this.announceTimer !== null) {
      clearInterval(this.announceTimer);
      this.announceTimer = null;
    }
  }

  /** Runs every WATCH_ANNOUNCE_MS while anyone watches: tells the others, or stops relaying. */
  private announce(): void {
    if (this.watchers.size > 0)
      void this.bus.broadcast(ADMIN_WATCH_TOPIC, { instanceId: this.instance.id });
    else this.updateWatch();
  }

  private changed(change: PresenceChange): void {
    this.send(change.type, change);
    if (this.remoteWatchUntil <= Date.now()) return;
    this.relayQueue.push(change);
    this.relayTimer ??= setTimeout(() => {
      const changes = this.relayQueue;
      this.relayQueue = [];
      this.relayTimer = null;
      void this.bus.broadcast(PRESENCE_CHANGES_TOPIC, { changes });
    }, RELAY_EVERY_MS);
  }
}
