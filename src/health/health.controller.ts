import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RETRY_AFTER_HEADER } from '../common/api-errors.decorator';
import { LivenessResponse, NotReadyResponse, ReadinessResponse } from './dto/readiness.response';
import { HealthService, Readiness } from './health.service';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LivenessResponse })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: '200 while the database answers (status degraded when Redis is down), else 503',
  })
  @ApiOkResponse({ type: ReadinessResponse })
  @ApiServiceUnavailableResponse({
    type: NotReadyResponse,
    description: 'The database does not answer',
    headers: RETRY_AFTER_HEADER,
  })
  async ready(): Promise<Readiness> {
    const readiness = await this.health.check();
    if (readiness.status === 'down')
      throw new ServiceUnavailableException({ message: 'Not ready', ...readiness });
    return readiness;
  }
}
