import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { END_REASONS, EndReason } from '../live-session';

export const MAX_ADMIN_PAGE_SIZE = 200;
const DEFAULT_ADMIN_PAGE_SIZE = 50;

/** Out-of-range limits are clamped, not refused. */
function clamp(value: unknown): unknown {
  if (value === undefined || value === '') return DEFAULT_ADMIN_PAGE_SIZE;
  const parsed = Number(value);
  return Number.isInteger(parsed) ? Math.min(Math.max(parsed, 1), MAX_ADMIN_PAGE_SIZE) : value;
}

export class OnlineUsersQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_ADMIN_PAGE_SIZE,
    default: DEFAULT_ADMIN_PAGE_SIZE,
  })
  @Transform(({ value }: { value: unknown }) => clamp(value))
  @IsInt({ message: 'limit must be a whole number' })
  limit: number = DEFAULT_ADMIN_PAGE_SIZE;
}

export class AuditedSessionsQuery extends OnlineUsersQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 128)
  userId?: string;

  @ApiPropertyOptional({ enum: END_REASONS })
  @IsOptional()
  @IsIn(END_REASONS)
  endReason?: EndReason;

  @ApiPropertyOptional({ description: 'Sessions that ended at or after this instant (ISO-8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Sessions that ended before this instant (ISO-8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
