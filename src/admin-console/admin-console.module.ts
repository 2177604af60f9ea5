import { Module } from '@nestjs/common';
import { PresenceModule } from '../presence/presence.module';
import { AdminEventsController } from './admin-events.controller';
import { AdminEventsService } from './admin-events.service';
import { AdminPageAssets } from './admin-page.assets';
import { AdminPageController } from './admin-page.controller';
import { AdminStatsSampler } from './admin-stats.sampler';

/** The admin console: its page, and the live feed of presence and delivery it draws. */
@Module({
  imports: [PresenceModule],
  controllers: [AdminPageController, AdminEventsController],
  providers: [AdminPageAssets, AdminEventsService, AdminStatsSampler],
})
export class AdminConsoleModule {}
