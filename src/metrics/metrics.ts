import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics: are sessions kept alive by pings, and do results reach users in real time?
 * One registry per application instance (tests start several).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  /** Each batching writer's backlog, read when /metrics is scraped (see `trackBatchWriter`). */
  private readonly batchBacklogs = new Map<string, () => number>();

  readonly sessionsOpen = new Gauge({
    name: 'mealpulse_ws_sessions_open',
    help: 'WebSocket sessions currently registered in this process',
    registers: [this.registry],
  });

  /**
   * What the ping hot path counts, as plain fields it increments (a prom-client increment per
   * ping, with its label lookup, costs more than the rest of the ping's handling); the counters
   * below read them when /metrics is scraped.
   */
  readonly signsOfLife = {
    pings: { protocol_ping: 0, protocol_pong: 0, json_ping: 0 },
    lastSeenUpdates: 0,
  };

  readonly pingsReceived = new Counter({
    name: 'mealpulse_ws_pings_received_total',
    help: 'Pings received, by kind (protocol_ping, protocol_pong answering a server ping, json_ping)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => {
      this.pingsReceived.reset();
      for (const [kind, count] of Object.entries(this.signsOfLife.pings))
        this.pingsReceived.inc({ kind }, count);
    },
  });

  readonly lastSeenUpdates = new Counter({
    name: 'mealpulse_presence_last_seen_updates_total',
    help: 'Times a session’s lastSeenAt was refreshed by an inbound frame',
    registers: [this.registry],
    collect: () => {
      this.lastSeenUpdates.reset();
      this.lastSeenUpdates.inc(this.signsOfLife.lastSeenUpdates);
    },
  });

  readonly appStateChanges = new Counter({
    name: 'mealpulse_ws_app_state_changes_total',
    help: 'app_state frames that changed a session’s state, by the new state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly sessionsEnded = new Counter({
    name: 'mealpulse_ws_sessions_ended_total',
    help: 'Sessions ended, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly notificationsCreated = new Counter({
    name: 'mealpulse_notifications_created_total',
    help: 'Notifications written to the outbox',
    registers: [this.registry],
  });

  readonly notificationsPushed = new Counter({
    name: 'mealpulse_notifications_pushed_total',
    help: 'Notification frames written to a live session as they were created',
    registers: [this.registry],
  });

  readonly notificationsReplayed = new Counter({
    name: 'mealpulse_notifications_replayed_total',
    help: 'Notification frames written to a session on open (replay)',
    registers: [this.registry],
  });

  readonly notificationsGapFilled = new Counter({
    name: 'mealpulse_notifications_gap_filled_total',
    help: 'Notification frames read from the outbox because a later one reached the session first',
    registers: [this.registry],
  });

  readonly notificationsAcknowledged = new Counter({
    name: 'mealpulse_notifications_acknowledged_total',
    help: 'Notifications marked acknowledged by an ack frame',
    registers: [this.registry],
  });

  readonly pushesUserOffline = new Counter({
    name: 'mealpulse_notification_pushes_user_offline_total',
    help: 'Notifications created while the user had no live session on any instance (kept for replay)',
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'mealpulse_notification_delivery_ms',
    help: 'Milliseconds from the meal log’s completion commit to the notification frame being written',
    buckets: [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });

  readonly pushes = new Counter({
    name: 'mealpulse_pushes_total',
    help: 'APNs push attempts, by outcome (sent, rejected, retrying, failed)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly pushDelay = new Histogram({
    name: 'mealpulse_push_delay_ms',
    help: 'Milliseconds from when a push fell due (creation, or the ack deadline) to APNs’ answer',
    buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });

  readonly redisMessagesDropped = new Counter({
    name: 'mealpulse_redis_messages_dropped_total',
    help: 'Messages from Redis that were not handled, by topic and reason (malformed, unknown_topic, invalid_message, handler_failed)',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });

  readonly redisMessagesPublished = new Counter({
    name: 'mealpulse_redis_messages_published_total',
    help: 'Messages published to other instances through Redis, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly redisPresenceCommands = new Counter({
    name: 'mealpulse_redis_presence_commands_total',
    help: 'Redis commands sent by the presence store: lease writes (batched) and reads',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  readonly batchRowsPending = new Gauge({
    name: 'mealpulse_batch_rows_pending',
    help: 'Rows a batching writer holds that are not stored yet (queued or being written), by writer',
    labelNames: ['writer'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [writer, backlog] of this.batchBacklogs)
        this.batchRowsPending.set({ writer }, backlog());
    },
  });

  readonly batchRowsWritten = new Counter({
    name: 'mealpulse_batch_rows_written_total',
    help: 'Rows a batching writer stored, by writer',
    labelNames: ['writer'] as const,
    registers: [this.registry],
  });

  readonly batchRowsRefused = new Counter({
    name: 'mealpulse_batch_rows_refused_total',
    help: 'Rows the store refused (each logged with its id) and a batching writer dropped, by writer',
    labelNames: ['writer'] as const,
    registers: [this.registry],
  });

  readonly batchWriteRetries = new Counter({
    name: 'mealpulse_batch_write_retries_total',
    help: 'Writes a batching writer kept for a retry because the store was unavailable, by writer',
    labelNames: ['writer'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mealpulse_' });
  }

  /** Shows the writer's counters from 0, and `backlog()` as its pending rows on every scrape. */
  trackBatchWriter(writer: string, backlog: () => number): void {
    this.batchBacklogs.set(writer, backlog);
    for (const counter of [this.batchRowsWritten, this.batchRowsRefused, this.batchWriteRetries])
      counter.inc({ writer }, 0);
  }
}
