import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ConnectionError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { checkRedisCredentials } from './cluster/redis.connection';
import { answerClientError } from './common/client-error.answer';
import { errorBody } from './common/http-exception.filter';
import { loadSigningSecret, secretFilePath, SigningSecretError } from './auth/signing-secret';
import { buildOpenApiDocument } from './common/openapi.document';
import { parseJsonBody } from './common/json-body';
import { ROOT_LOGGER } from './logging/logger.options';
import { requestIdOf, requestLog } from './logging/request-log';
import { exitWhenShutdownOverruns } from './common/shutdown-deadline';
import type { AppConfig } from './config/app-config';
import { ConfigError, loadConfig } from './config/config.loader';
import { UpgradeAuthorizer } from './presence/upgrade.authorizer';
import { GatewayModule } from './gateway/gateway.module';
import { MealPulseWsAdapter } from './realtime/mealpulse-ws.adapter';

/**
 * A request or WebSocket upgrade whose headers are not complete this long after its first byte
 * is answered 408 and closed: a peer dribbling headers a byte at a time cannot hold a socket.
 * A connection that sends nothing at all is given longer (`answerClientError`).
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How often Node looks for such requests; its default (30 s) would let one live 40 s. */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/**
 * Connections the kernel completes while the event loop is busy wait in the listen queue. Node's
 * 511 overflows in a reconnect storm: the kernel then drops SYNs (the client resends after 1, 3,
 * 7 s …) and first segments, which come back on TCP's doubling retransmission many seconds later.
 * Linux caps it at net.core.somaxconn (4,096 by default).
 */
export const LISTEN_BACKLOG = 4_096;

/** No request line is longer: Node refuses more than 16 KiB of headers with 431. */
const MAX_URL_BYTES = 16_384;

/**
 * Node's own default: Fastify's (72 s) would keep an idle client's socket, one of the process's
 * 20,000 files, open 14 times as long.
 */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * The HTTP platform is Fastify: on the REST benchmark (W4) Express's router, middleware chain
 * and `res.json` cost a request twice the CPU of Fastify's (docs/benchmarks.md).
 */
export function httpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket) {
      answerClientError(error, socket, this.server.headersTimeout);
    },
    genReqId: requestIdOf,
    requestIdHeader: false,
    // No Nest middleware: request lines come from a hook, which costs less per request.
    skipMiddie: true,
    // As Express routed: `/API/v1/…` and `/api/v1/…/` are the same route, and a path parameter
    // of any length reaches its validation (400) rather than the router's 414.
    routerOptions: {
      ignoreTrailingSlash: true,
      caseSensitive: false,
      maxParamLength: MAX_URL_BYTES,
    },
    // A URL Fastify cannot decode (a stray `%`) never reaches Nest's exception filter.
    frameworkErrors: (_error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      void reply.status(400).send(errorBody(400, 'The URL is not validly percent-encoded'));
    },
  });
}

function headersTimeoutMs(config: AppConfig): number {
  return Math.min(HEADERS_TIMEOUT_MS, config.http.requestTimeoutMs);
}

/** Everything that makes the app behave as deployed; shared with the e2e tests. */
export function configureApp(app: NestFastifyApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  const server = app.getHttpServer() as Server & { connectionsCheckingInterval: number };
  // Node's own default (5 minutes) would let a client that sends its headers and then dribbles
  // its body hold a socket and a parser that long (the request timeout is Fastify's option).
  // Upgraded sockets leave this timer behind.
  server.headersTimeout = headersTimeoutMs(config);
  // Read when the server starts listening, which is later.
  server.connectionsCheckingInterval = CONNECTIONS_CHECK_INTERVAL_MS;
  const log = requestLog(app.get<PinoLogger>(ROOT_LOGGER));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    log(request.raw, reply.raw, request.id);
    done();
  });
  const limitBytes = config.http.bodyLimitBytes;
  app.useBodyParser('application/json', { bodyLimit: limitBytes }, (request, body, done) => {
    try {
      done(null, parseJsonBody(body, request.headers, limitBytes));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // Any other body is left unread, as if there were none: the DTO's validation then answers 400
  // naming what is missing.
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.useWebSocketAdapter(
    new MealPulseWsAdapter(app, app.get(UpgradeAuthorizer), {
      maxPayloadBytes: config.ws.maxPayloadBytes,
      maxMessagesPerSecond: config.ws.maxMessagesPerSecond,
      maxBufferedBytes: config.ws.maxBufferedBytes,
      directHandlers: GatewayModule.frameHandlers(app),
    }),
  );
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app));
}

/** Listens on every address (as Node does without a host) unless given one. */
export async function listen(
  app: NestFastifyApplication,
  port: number,
  host = '::',
): Promise<void> {
  await app.listen({ port, host, backlog: LISTEN_BACKLOG });
}

export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    httpAdapter(config),
    {
      bufferLogs: true,
      bodyParser: false,
      // Throw start-up errors to the caller (tests, bootstrap) instead of exiting on the spot.
      abortOnError: false,
    },
  );
  configureApp(app, config);
  return app;
}

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
    // Checked before the app is built, so that each of these stops start-up in one line.
    loadSigningSecret(config);
    if (config.redis.url !== null) await checkRedisCredentials(config.redis.url);
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof SigningSecretError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const app = await createApp(config);
  const logger = app.get(Logger);
  if (config.auth.jwtSecret === null) {
    logger.log(
      `JWT_SECRET is unset: tokens are signed with the secret kept in ${secretFilePath(config.database.dataDir)} (npm run token uses it too)`,
    );
  }
  exitWhenShutdownOverruns(config.shutdown.timeoutMs, logger);
  await listen(app, config.port);
  logger.log(
    `MealPulse listening on ${(await app.getUrl()).replace('[::1]', 'localhost')} (API docs at /docs)`,
  );
}

if (require.main === module) {
  bootstrap().catch((error: unknown) => {
    // A configuration problem found while starting (credentials Redis refuses) is one line too.
    process.stderr.write(
      error instanceof ConfigError
        ? `${error.message}\n`
        : `MealPulse failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
