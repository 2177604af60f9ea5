import { Module } from '@nestjs/common';
import { AdminPresenceController } from './admin-presence.controller';
import { AdminPresenceService } from './admin-presence.service';
import { PresenceGateway } from './presence.gateway';
import { PresenceService } from './presence.service';
import { ServerHeartbeat } from './server-heartbeat';
import { SessionAuditRepository } from './session-audit.repository';
import { SessionAuditWriter } from './session-audit.writer';
import { SessionOpenedHooks } from './session-opened.hooks';
import { StaleSessionSweeper } from './stale-session.sweeper';
import { UpgradeAuthorizer } from './upgrade.authorizer';

@Module({
  controllers: [AdminPresenceController],
  providers: [
    PresenceService,
    PresenceGateway,
    UpgradeAuthorizer,
    SessionAuditRepository,
    SessionAuditWriter,
    SessionOpenedHooks,
    StaleSessionSweeper,
    ServerHeartbeat,
    AdminPresenceService,
  ],
  exports: [PresenceService, UpgradeAuthorizer, SessionOpenedHooks],
})
export class PresenceModule {}
