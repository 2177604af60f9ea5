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
  ApiCreatedResponse,
  ApiHeader,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { ifNoneMatchHits } from '../common/conditional-get';
import { CreateMealLogPipe } from './create-meal-log.reader';
import { CreateMealLog, CreateMealLogDto } from './dto/create-meal-log.dto';
import { ListMealLogsQuery } from './dto/list-meal-logs.query';
import { MealLogPageResponse, MealLogResponse } from './dto/meal-log.response';
import { mealLogEtag, type MealLogView } from './meal-log.view';
import { IDEMPOTENCY_KEY, MealLogsService } from './meal-logs.service';

@ApiTags('meal-logs')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('api/v1/meal-logs')
export class MealLogsController {
  constructor(private readonly mealLogs: MealLogsService) {}

  @Post('natural')
  @ApiOperation({ summary: 'Logs a meal from its description; analysis runs asynchronously' })
  @ApiBody({ type: CreateMealLogDto })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe key, scoped to the user: the same key with the same body returns the same log',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  })
  @ApiCreatedResponse({
    type: MealLogResponse,
    description: 'Accepted, status processing (or the log this Idempotency-Key already made)',
    headers: {
      'Idempotent-Replayed': {
        description: 'true when the answer is the log an earlier request with this key made',
        required: false,
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiErrors(
    [409, 'A request with this Idempotency-Key is still in progress'],
    [422, 'This Idempotency-Key was used with a different body'],
    [429, 'More than MEAL_LOGS_PER_MINUTE logs in a minute; Retry-After says when to retry'],
    503,
  )
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body(CreateMealLogPipe) body: CreateMealLog,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MealLogView> {
    const { mealLog, replayed } = await this.mealLogs.create(user.userId, body, idempotencyKey);
    if (replayed) reply.header('Idempotent-Replayed', 'true');
    reply.status(HttpStatus.CREATED);
    return mealLog;
  }

  @Get()
  @ApiOperation({ summary: 'The user’s meal logs, newest first' })
  @ApiOkResponse({ type: MealLogPageResponse })
  @ApiErrors(503)
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListMealLogsQuery,
  ): Promise<{ items: MealLogView[]; nextCursor: string | null }> {
    return this.mealLogs.list(user.userId, query.limit, query.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One meal log; poll it with If-None-Match until it is not processing' })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag of a copy the client holds: 304 while the log is unchanged',
  })
  @ApiOkResponse({
    type: MealLogResponse,
    headers: {
      ETag: {
        description: 'The version of this answer, for If-None-Match',
        required: true,
        schema: { type: 'string' },
      },
    },
  })
  @ApiNotModifiedResponse({
    description: 'Unchanged since the ETag given in If-None-Match',
    headers: { ETag: { description: 'The same ETag', required: true, schema: { type: 'string' } } },
  })
  @ApiErrors([404, 'No such log for this user'], 503)
  async get(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id') id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MealLogView | undefined> {
    const mealLog = await this.mealLogs.get(user.userId, id);
    const etag = mealLogEtag(mealLog);
    reply.header('ETag', etag);
    if (!ifNoneMatchHits(ifNoneMatch, etag)) return mealLog;
    reply.status(HttpStatus.NOT_MODIFIED);
    return undefined;
  }
}
