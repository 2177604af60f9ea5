import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, MaxLength } from 'class-validator';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Out-of-range limits are clamped rather than refused: a client asking for a million gets 100. */
export function clampLimit(value: unknown): unknown {
  if (value === undefined || value === '') return DEFAULT_PAGE_SIZE;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) return value; // left for @IsInt to reject with a message
  return Math.min(Math.max(parsed, 1), MAX_PAGE_SIZE);
}

export class ListMealLogsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @Transform(({ value }: { value: unknown }) => clampLimit(value))
  @IsInt({ message: 'limit must be a whole number' })
  limit: number = DEFAULT_PAGE_SIZE;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
