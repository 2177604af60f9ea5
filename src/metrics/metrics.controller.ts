import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { METRICS_SCHEME } from '../common/openapi.document';
import { Metrics } from './metrics';
import { MetricsTokenGuard } from './metrics-token.guard';

/** Prometheus scrape endpoint; behind METRICS_TOKEN when one is configured. */
@ApiTags('operations')
@ApiSecurity(METRICS_SCHEME)
@UseGuards(MetricsTokenGuard)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics; needs METRICS_TOKEN as a bearer token only when it is set',
  })
  @ApiOkResponse({
    description: 'The Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
