import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { checkRedisCredentials } from './cluster/redis.connection';
import { answerClientErrors } from './common/client-error.answer';
import { loadSigningSecret, secretFilePath, SigningSecretError } from './auth/signing-secret';
import { refuseDeepJson } from './common/json-depth';
import { buildOpenApiDocument } from './common/openapi.document';
import { refusePrototypeKeys } from './common/prototype-keys';
import { ROOT_LOGGER } from './logging/logger.options';
import { requestLog } from './logging/request-log';
import { exitWhenShutdownOverruns } from './common/shutdown-deadline';
import type { AppConfig } from './config/app-config';
import { ConfigError, loadConfig } from './config/config.loader';
import { UpgradeAuthorizer } from './presence/upgrade.authorizer';
import { GatewayModule } from './gateway/gateway.module';
import { MealPulseWsAdapter } from './realtime/mealpulse-ws.adapter';

/**
 * A request or WebSocket upgrade whose headers are not complete this long after its first byte
 * is answered 408 and closed: a peer dribbling headers a byte at a time cannot hold a socket.
 * A connection that sends nothing at all is given longer (`answerClientErrors`).
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

/** Everything that makes the app behave as deployed; shared with the e2e tests. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  const server = app.getHttpServer() as Server & { connectionsCheckingInterval: number };
  // Node's own default (5 minutes) would let a client that sends its headers and then dribbles
  // its body hold a socket and a parser that long. Upgraded sockets leave this timer behind.
  server.requestTimeout = config.http.requestTimeoutMs;
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, config.http.requestTimeoutMs);
  // Read when the server starts listening, which is later.
  server.connectionsCheckingInterval = CONNECTIONS_CHECK_INTERVAL_MS;
  answerClientErrors(server);
  app.use(requestLog(app.get<PinoLogger>(ROOT_LOGGER)));
  app.useBodyParser('json', {
    limit: config.http.bodyLimitBytes,
    reviver: refusePrototypeKeys,
    verify: refuseDeepJson,
  });
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

/**
 * Listens with LISTEN_BACKLOG. Nest hands its arguments on to Node's
 * `server.listen(port[, host], backlog)`; its own type names only the host.
 */
export async function listen(
  app: NestExpressApplication,
  port: number,
  host?: string,
): Promise<void> {
  const nodeListen = app.listen.bind(app) as unknown as (
    ...args: (number | string)[]
  ) => Promise<unknown>;
  await (host === undefined
    ? nodeListen(port, LISTEN_BACKLOG)
    : nodeListen(port, host, LISTEN_BACKLOG));
}

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
    // Throw start-up errors to the caller (tests, bootstrap) instead of exiting on the spot.
    abortOnError: false,
  });
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
