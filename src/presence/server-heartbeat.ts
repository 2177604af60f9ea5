import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { LocalSessions } from './local-sessions';
import { SessionAuditWriter } from './session-audit.writer';

/**
 * Sends every session a protocol ping each WS_HEARTBEAT_INTERVAL_MS (the client's pong refreshes
 * its presence, so a client that only answers pings stays online), and writes the sessions'
 * activity to the audit each PRESENCE_AUDIT_FLUSH_INTERVAL_MS.
 */
@Injectable()
export class ServerHeartbeat implements OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly local: LocalSessions,
    private readonly audit: SessionAuditWriter,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'server-heartbeat',
      setInterval(() => this.pingAll(), this.config.ws.heartbeatIntervalMs),
    );
    this.scheduler.addInterval(
      'session-activity-flush',
      setInterval(() => this.audit.requestFlush(), this.config.presence.auditFlushIntervalMs),
    );
  }

  pingAll(): void {
    for (const { socket } of this.local.all()) if (socket.readyState === socket.OPEN) socket.ping();
  }
}
