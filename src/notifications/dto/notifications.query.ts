import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageLimit } from '../../common/pagination';
import { SeqParam } from '../../common/validation';

const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

export class NotificationsQuery {
  @ApiPropertyOptional({
    type: 'integer',
    description: 'Return notifications with a larger seq',
    default: 0,
    minimum: 0,
  })
  @SeqParam({ fallback: 0 })
  @IsInt({ message: 'after must be a non-negative integer seq' })
  @Min(0, { message: 'after must be a non-negative integer seq' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'after is too large' })
  after: number = 0;

  @PageLimit({ fallback: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE })
  limit: number = DEFAULT_PAGE_SIZE;
}

export class AdminNotificationsQuery {
  @PageLimit({ fallback: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE })
  limit: number = DEFAULT_PAGE_SIZE;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
