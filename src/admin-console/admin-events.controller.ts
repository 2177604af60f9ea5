import { Controller, MessageEvent, Sse, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import type { Observable } from 'rxjs';
import { AdminGuard } from '../auth/admin.guard';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { AdminEventsService } from './admin-events.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(403)
@UseGuards(JwtAuthGuard, AdminGuard)
@Controller('api/v1/admin/events')
export class AdminEventsController {
  constructor(private readonly events: AdminEventsService) {}

  @Sse()
  @ApiOperation({
    summary:
      'Server-sent events: a presence snapshot, then session.opened / session.app_state / session.ended on every instance, and stats every 5 s (docs/admin-console.md)',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'An endless text/event-stream; each event’s data is one JSON object',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  stream(): Observable<MessageEvent> {
    return this.events.stream();
  }
}
