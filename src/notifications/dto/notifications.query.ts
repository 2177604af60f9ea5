import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { PageLimit } from '../../common/pagination';

const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

function toNumber(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
}

export class NotificationsQuery {
  @ApiPropertyOptional({
    description: 'Return notifications with a larger seq',
    default: 0,
    minimum: 0,
  })
  @Transform(({ value }: { value: unknown }) => (value === undefined ? 0 : toNumber(value)))
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
  @Transform(({ value }: { value: unknown }) => toNumber(value))
  @IsInt({ message: 'cursor is not a value returned as nextCursor' })
  @Min(1, { message: 'cursor is not a value returned as nextCursor' })
  cursor?: number;
}
