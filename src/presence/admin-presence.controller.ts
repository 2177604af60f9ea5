import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UserIdPipe } from '../common/user-id.pipe';
import { AdminGuard } from '../auth/admin.guard';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { AdminPresenceService, PresenceOverview, UserPresence } from './admin-presence.service';
import { AuditedSessionsQuery, OnlineUsersQuery } from './dto/admin-presence.query';
import type { AuditedSessionView } from './live-session';

@ApiTags('admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The token lacks the admin role' })
@UseGuards(JwtAuthGuard, AdminGuard)
@Controller('api/v1/admin/presence')
export class AdminPresenceController {
  constructor(private readonly adminPresence: AdminPresenceService) {}

  @Get()
  @ApiOperation({ summary: 'Who is online now: counts, and users with their live sessions' })
  overview(@Query() query: OnlineUsersQuery): Promise<PresenceOverview> {
    return this.adminPresence.overview(query.limit);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'Ended sessions from the audit, newest first' })
  sessions(
    @Query() query: AuditedSessionsQuery,
  ): Promise<{ items: AuditedSessionView[]; nextCursor: string | null }> {
    return this.adminPresence.endedSessions(query);
  }

  @Get('users/:userId')
  @ApiOperation({ summary: 'One user: online or not, last seen, live sessions' })
  user(@Param('userId', UserIdPipe) userId: string): Promise<UserPresence> {
    return this.adminPresence.user(userId);
  }
}
