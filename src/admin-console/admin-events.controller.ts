import { Controller, MessageEvent, Sse, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { AdminGuard } from '../auth/admin.guard';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { AdminEventsService } from './admin-events.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The token lacks the admin role' })
@UseGuards(JwtAuthGuard, AdminGuard)
@Controller('api/v1/admin/events')
export class AdminEventsController {
  constructor(private readonly events: AdminEventsService) {}

  @Sse()
  @ApiOperation({
    summary:
      'Server-sent events: a presence snapshot, then session.opened / session.app_state / session.ended on every instance, and stats every 5 s (docs/admin-console.md)',
  })
  stream(): Observable<MessageEvent> {
    return this.events.stream();
  }
}
