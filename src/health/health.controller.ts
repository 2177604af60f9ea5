import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthService, Readiness } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: '200 while the database answers (status degraded when Redis is down), else 503',
  })
  async ready(): Promise<Readiness> {
    const readiness = await this.health.check();
    if (readiness.status === 'down')
      throw new ServiceUnavailableException({ message: 'Not ready', ...readiness });
    return readiness;
  }
}
