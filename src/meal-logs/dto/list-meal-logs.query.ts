import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageLimit } from '../../common/pagination';

const DEFAULT_PAGE_SIZE = 20;

export class ListMealLogsQuery {
  @PageLimit({ fallback: DEFAULT_PAGE_SIZE, max: 100 })
  limit: number = DEFAULT_PAGE_SIZE;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
