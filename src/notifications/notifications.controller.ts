import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { NotificationListResponse } from './dto/notification.response';
import { NotificationsQuery } from './dto/notifications.query';
import type { NotificationView } from './notification.view';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('api/v1/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Catch-up for polling or reconnecting clients: notifications with seq > after, ascending',
  })
  @ApiOkResponse({ type: NotificationListResponse })
  @ApiErrors(503)
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: NotificationsQuery,
  ): Promise<{ items: NotificationView[] }> {
    return { items: await this.notifications.listAfter(user.userId, query.after, query.limit) };
  }
}
