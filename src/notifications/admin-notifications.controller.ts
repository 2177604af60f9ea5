import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { decodeSeqCursor, encodeSeqCursor } from '../common/pagination';
import { ApiUserIdParam, UserIdPipe } from '../common/user-id.pipe';
import { NotificationDeliveryPageResponse } from './dto/notification.response';
import { AdminNotificationsQuery } from './dto/notifications.query';
import { AdminNotificationsService } from './admin-notifications.service';
import type { NotificationDeliveryView } from './notification.view';

@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(403, 503)
@UseGuards(JwtAuthGuard, AdminGuard)
@Controller('api/v1/admin/users/:userId/notifications')
export class AdminNotificationsController {
  constructor(private readonly notifications: AdminNotificationsService) {}

  @Get()
  @ApiOperation({ summary: 'A user’s notifications, newest first, with their delivery record' })
  @ApiUserIdParam()
  @ApiOkResponse({ type: NotificationDeliveryPageResponse })
  async list(
    @Param('userId', UserIdPipe) userId: string,
    @Query() query: AdminNotificationsQuery,
  ): Promise<{ items: NotificationDeliveryView[]; nextCursor: string | null }> {
    const items = await this.notifications.list(
      userId,
      query.limit + 1,
      query.cursor === undefined ? null : decodeSeqCursor(query.cursor),
    );
    const page = items.slice(0, query.limit);
    return {
      items: page,
      nextCursor: items.length > query.limit ? encodeSeqCursor(page[page.length - 1].seq) : null,
    };
  }
}
