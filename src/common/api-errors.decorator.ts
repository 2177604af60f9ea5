import { applyDecorators } from '@nestjs/common';
import { ApiResponse, HeadersObject, ResponseObject } from '@nestjs/swagger';
import { ErrorResponse } from './dto/error.response';

/** The error statuses the service answers with, each with what it means on any route. */
const ERROR_MEANINGS = {
  400: 'The request could not be used: a malformed body or a refused field, named in message',
  401: 'Missing, malformed, expired or badly signed access token',
  403: 'The token lacks the admin role',
  404: 'Not found',
  409: 'Conflict',
  413: 'The body is larger than the service accepts',
  415: 'The body’s charset or content encoding is not supported',
  422: 'The request is well-formed but cannot be processed',
  429: 'Too many requests; Retry-After says when to try again',
  500: 'A bug: the answer carries the errorId its log line was written under',
  503: 'A dependency (the database) is unavailable; Retry-After says when to try again',
} as const;

export type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** The statuses whose answers always carry `Retry-After`. */
const RETRY_AFTER_STATUSES: ReadonlySet<ErrorStatus> = new Set([429, 503]);

export const RETRY_AFTER_HEADER: HeadersObject = {
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
};

/** An error answer as a document's response object (what `ApiErrors` makes Nest write). */
export function errorResponseObject(status: ErrorStatus): ResponseObject {
  return {
    description: ERROR_MEANINGS[status],
    ...(RETRY_AFTER_STATUSES.has(status) ? { headers: RETRY_AFTER_HEADER } : {}),
    content: {
      'application/json': { schema: { $ref: `#/components/schemas/${ErrorResponse.name}` } },
    },
  };
}

/** The OpenAPI response of an error status: always the `ErrorResponse` body. */
function errorResponseOptions(status: ErrorStatus, description?: string) {
  return {
    status,
    description: description ?? ERROR_MEANINGS[status],
    type: ErrorResponse,
    ...(RETRY_AFTER_STATUSES.has(status) ? { headers: RETRY_AFTER_HEADER } : {}),
  };
}

/**
 * Documents error answers of a route (or of every route of a controller), each as the shared
 * `ErrorResponse`. A status given as `[status, description]` says what it means on this route.
 * 400, 413, 415 and 500 (any route) and 401 (any protected route) are added to every operation
 * by `buildOpenApiDocument`.
 */
export function ApiErrors(
  ...statuses: (ErrorStatus | [ErrorStatus, string])[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) =>
      ApiResponse(
        Array.isArray(entry) ? errorResponseOptions(...entry) : errorResponseOptions(entry),
      ),
    ),
  );
}
