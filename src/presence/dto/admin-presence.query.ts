import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { USER_ID_RULE } from '../../common/text';
import { IsInstant, StorableText } from '../../common/validation';
import { PageLimit } from '../../common/pagination';
import { END_REASONS, EndReason } from '../live-session';

const DEFAULT_ADMIN_PAGE_SIZE = 50;

export class OnlineUsersQuery {
  @PageLimit({ fallback: DEFAULT_ADMIN_PAGE_SIZE, max: 200 })
  limit: number = DEFAULT_ADMIN_PAGE_SIZE;
}

export class AuditedSessionsQuery extends OnlineUsersQuery {
  @ApiPropertyOptional({ minLength: USER_ID_RULE.min, maxLength: USER_ID_RULE.max })
  @IsOptional()
  @StorableText(USER_ID_RULE)
  userId?: string;

  @ApiPropertyOptional({ enum: END_REASONS, enumName: 'EndReason' })
  @IsOptional()
  @IsIn(END_REASONS)
  endReason?: EndReason;

  @ApiPropertyOptional({ description: 'Sessions that ended at or after this instant (ISO-8601)' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ description: 'Sessions that ended before this instant (ISO-8601)' })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
