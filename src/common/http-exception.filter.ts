import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { DomainError, DomainErrorCode } from './domain.error';
import { isDatabaseUnavailable } from './database-unavailable';

/** Seconds a client should wait before retrying while the database is unreachable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

export function statusForDomainError(code: DomainErrorCode): HttpStatus {
  switch (code) {
    case 'meal_log_not_found':
      return HttpStatus.NOT_FOUND;
    case 'invalid_cursor':
    case 'invalid_idempotency_key':
      return HttpStatus.BAD_REQUEST;
    case 'idempotency_key_reused':
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case 'idempotency_request_in_progress':
      return HttpStatus.CONFLICT;
    case 'meal_log_rate_limited':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'database_unavailable':
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  code?: string;
  errorId?: string;
}

/**
 * Failures Fastify answers before a route runs (a body past the limit, a Content-Length that
 * does not match, a URL it cannot decode) arrive as errors with a 4xx `statusCode`.
 */
function isClientHttpError(error: unknown): error is Error & { statusCode: number } {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return error instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

function reason(status: number): string {
  const name = HttpStatus[status] ?? 'ERROR';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}

/** The answer's body for a refusal or failure: `{statusCode, error, message}`. */
export function errorBody(statusCode: number, message: string | string[]): ErrorBody {
  return { statusCode, error: reason(statusCode), message };
}

/**
 * The one place errors become HTTP answers, always `{statusCode, error, message}`. Unexpected
 * errors are logged with their stack under an id that is returned to the client instead.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toBody(exception, http.getRequest<{ id?: string }>().id);
    const retryAfterSeconds =
      exception instanceof DomainError ? exception.retryAfterSeconds : undefined;
    if (retryAfterSeconds !== undefined) {
      reply.header('Retry-After', String(retryAfterSeconds));
    } else if (body.statusCode === 503) {
      reply.header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    }
    void reply.status(body.statusCode).send(body);
  }

  /** `requestId`: the id request lines carry (see `requestLog`), so the two can be joined. */
  private toBody(exception: unknown, requestId: string | undefined): ErrorBody {
    if (exception instanceof DomainError) {
      const statusCode = statusForDomainError(exception.code);
      return {
        statusCode,
        error: reason(statusCode),
        message: exception.message,
        code: exception.code,
      };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const answer = exception.getResponse();
      if (typeof answer === 'object' && answer !== null && 'message' in answer) {
        // Keep extra detail a handler chose to send (e.g. readiness checks).
        const { message, ...details } = answer as { message: string | string[] };
        return { ...details, statusCode, error: reason(statusCode), message };
      }
      return errorBody(statusCode, exception.message);
    }
    if (isClientHttpError(exception)) {
      return errorBody(exception.statusCode, exception.message);
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable: ${(exception as Error).message}`);
      const statusCode = HttpStatus.SERVICE_UNAVAILABLE;
      return {
        statusCode,
        error: reason(statusCode),
        message: 'Database unavailable, retry later',
        code: 'database_unavailable',
      };
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId, requestId }, 'Unhandled error');
    const statusCode = HttpStatus.INTERNAL_SERVER_ERROR;
    return {
      statusCode,
      error: reason(statusCode),
      message: `Internal error (id ${errorId})`,
      errorId,
    };
  }
}
