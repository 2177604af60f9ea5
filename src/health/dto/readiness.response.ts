import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { ErrorResponse } from '../../common/dto/error.response';

const DEPENDENCY_CHECKS: ApiPropertyOptions = {
  type: 'object',
  description: 'Each dependency checked (database; redis when REDIS_URL is set): up or down',
  additionalProperties: { type: 'string', enum: ['up', 'down'] },
  example: { database: 'up' },
};

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class ReadinessResponse {
  @ApiProperty({
    enum: ['ok', 'degraded'],
    description: 'degraded: serving, but Redis is down (cross-instance delivery waits)',
  })
  status!: 'ok' | 'degraded';

  @ApiProperty(DEPENDENCY_CHECKS) checks!: Record<string, 'up' | 'down'>;
}

/** The 503 of /health/ready: the error body with the checks that failed. */
export class NotReadyResponse extends ErrorResponse {
  @ApiProperty({ enum: ['down'] }) status!: 'down';
  @ApiProperty(DEPENDENCY_CHECKS) checks!: Record<string, 'up' | 'down'>;
}
