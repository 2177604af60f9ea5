import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { ApiUserIdParam, UserIdPipe } from '../common/user-id.pipe';
import { AdminGuard } from '../auth/admin.guard';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { AdminPresenceService, PresenceOverview, UserPresence } from './admin-presence.service';
import { AuditedSessionsQuery, OnlineUsersQuery } from './dto/admin-presence.query';
import {
  AuditedSessionPageResponse,
  PresenceOverviewResponse,
  UserPresenceResponse,
} from './dto/session.response';
import type { AuditedSessionView } from './live-session';

@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(403, 503)
@UseGuards(JwtAuthGuard, AdminGuard)
@Controller('api/v1/admin/presence')
export class AdminPresenceController {
  constructor(private readonly adminPresence: AdminPresenceService) {}

  @Get()
  @ApiOperation({ summary: 'Who is online now: counts, and users with their live sessions' })
  @ApiOkResponse({ type: PresenceOverviewResponse })
  overview(@Query() query: OnlineUsersQuery): Promise<PresenceOverview> {
    return this.adminPresence.overview(query.limit);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'Ended sessions from the audit, newest first' })
  @ApiOkResponse({ type: AuditedSessionPageResponse })
  sessions(
    @Query() query: AuditedSessionsQuery,
  ): Promise<{ items: AuditedSessionView[]; nextCursor: string | null }> {
    return this.adminPresence.endedSessions(query);
  }

  @Get('users/:userId')
  @ApiOperation({ summary: 'One user: online or not, last seen, live sessions' })
  @ApiUserIdParam()
  @ApiOkResponse({ type: UserPresenceResponse })
  user(@Param('userId', UserIdPipe) userId: string): Promise<UserPresence> {
    return this.adminPresence.user(userId);
  }
}
