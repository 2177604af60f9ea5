import {
  Body,
  Controller,
  Get,
  Headers,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { CreateMealLogPipe } from './create-meal-log.reader';
import { CreateMealLog, CreateMealLogDto } from './dto/create-meal-log.dto';
import { ListMealLogsQuery } from './dto/list-meal-logs.query';
import { MealLogPageResponse, MealLogResponse } from './dto/meal-log.response';
import type { MealLogView } from './meal-log.view';
import { MealLogsService } from './meal-logs.service';

@ApiTags('meal-logs')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('api/v1/meal-logs')
export class MealLogsController {
  constructor(private readonly mealLogs: MealLogsService) {}

  @Post('natural')
  @ApiBody({ type: CreateMealLogDto })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry-safe key, scoped to the user',
  })
  @ApiResponse({
    status: 201,
    type: MealLogResponse,
    description: 'Accepted; analysis runs asynchronously',
  })
  @ApiResponse({ status: 409, description: 'A request with this Idempotency-Key is in progress' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key reused with a different body' })
  @ApiResponse({
    status: 429,
    description: 'More than MEAL_LOGS_PER_MINUTE logs in a minute; Retry-After says when to retry',
  })
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body(CreateMealLogPipe) body: CreateMealLog,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MealLogView> {
    const { mealLog, replayed } = await this.mealLogs.create(user.userId, body, idempotencyKey);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    response.status(HttpStatus.CREATED);
    return mealLog;
  }

  @Get()
  @ApiOkResponse({ type: MealLogPageResponse })
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListMealLogsQuery,
  ): Promise<{ items: MealLogView[]; nextCursor: string | null }> {
    return this.mealLogs.list(user.userId, query.limit, query.cursor);
  }

  /** Express adds the ETag and answers 304 to a matching If-None-Match. */
  @Get(':id')
  @ApiOkResponse({ type: MealLogResponse })
  @ApiResponse({ status: 404, description: 'No such log for this user' })
  get(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<MealLogView> {
    return this.mealLogs.get(user.userId, id);
  }
}
