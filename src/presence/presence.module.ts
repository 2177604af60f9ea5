import { Module } from '@nestjs/common';
import { RedisConnection } from '../cluster/redis.connection';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { AdminPresenceController } from './admin-presence.controller';
import { AdminPresenceService } from './admin-presence.service';
import { InstanceHeartbeat } from './instance-heartbeat';
import { LocalSessions } from './local-sessions';
import { MemoryPresenceStore } from './memory-presence.store';
import { PresenceChanges } from './presence-changes';
import { PresenceStore } from './presence-store.port';
import { RedisPresenceStore } from './redis-presence.store';
import { PresenceService } from './presence.service';
import { ServerHeartbeat } from './server-heartbeat';
import { SessionAuditPruner } from './session-audit.pruner';
import { SessionAuditRepository } from './session-audit.repository';
import { SessionAuditWriter } from './session-audit.writer';
import { SessionConnections } from './session-connections';
import { StaleSessionSweeper } from './stale-session.sweeper';
import { UpgradeAuthorizer } from './upgrade.authorizer';

@Module({
  controllers: [AdminPresenceController],
  providers: [
    PresenceService,
    PresenceChanges,
    LocalSessions,
    {
      // In memory for one instance; shared through Redis when REDIS_URL is set.
      provide: PresenceStore,
      inject: [AppConfig, LocalSessions, ServiceInstance, Metrics, RedisConnection],
      useFactory: (
        config: AppConfig,
        local: LocalSessions,
        instance: ServiceInstance,
        metrics: Metrics,
        redis: RedisConnection | null,
      ): PresenceStore =>
        redis === null
          ? new MemoryPresenceStore(config, local, instance)
          : new RedisPresenceStore(config, redis, local, instance, metrics),
    },
    SessionConnections,
    UpgradeAuthorizer,
    SessionAuditRepository,
    SessionAuditWriter,
    SessionAuditPruner,
    StaleSessionSweeper,
    InstanceHeartbeat,
    ServerHeartbeat,
    AdminPresenceService,
  ],
  exports: [PresenceService, PresenceChanges, SessionConnections, UpgradeAuthorizer],
})
export class PresenceModule {}
