import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  OpenAPIObject,
  OperationObject,
  PathItemObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { errorResponseObject, ErrorStatus } from './api-errors.decorator';
import { ErrorResponse } from './dto/error.response';

/** The security scheme of routes that need an access token (docs: "Authentication"). */
export const BEARER_SCHEME = 'bearer';
/** The scheme of /metrics when METRICS_TOKEN is set. */
export const METRICS_SCHEME = 'metricsToken';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Answers any route can give, whatever it does: the body parser refuses a body it cannot read on
 * every route (even a GET's), and a bug is a 500 anywhere.
 */
const ANY_ROUTE: ErrorStatus[] = [400, 413, 415, 500];

function operations(path: PathItemObject): OperationObject[] {
  return METHODS.flatMap((method) => (path[method] === undefined ? [] : [path[method]]));
}

/** Adds the error answers every operation (and every protected one) can give, where missing. */
function addSharedErrors(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of operations(path)) {
      const protectedRoute = (operation.security ?? []).length > 0;
      for (const status of protectedRoute ? [...ANY_ROUTE, 401 as const] : ANY_ROUTE) {
        operation.responses[status] ??= errorResponseObject(status);
      }
    }
  }
}

/**
 * The service's OpenAPI document, built from its controllers and DTOs: served at /docs and
 * /docs-json, checked by `npm run lint` and written to dist/openapi.json by `npm run build`.
 * Needs only the module graph, not running providers (the build makes it in preview mode).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MealPulse')
    .setDescription(
      'Meal logging with real-time results over WebSocket. Errors are always ErrorResponse. ' +
        'The WebSocket protocol at /ws is described in docs/websocket-protocol.md.',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token' },
      BEARER_SCHEME,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set' },
      METRICS_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorResponse],
    operationIdFactory: (controllerKey: string, methodKey: string) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  addSharedErrors(document);
  return document;
}
