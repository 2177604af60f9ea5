import pino, { type Logger as PinoLogger } from 'pino';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { safeError } from './safe-error';

/** Injection token of the app's pino logger (see `rootLogger`). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** The app's one structured JSON logger; errors only as safeError describes them. */
export function rootLogger(config: AppConfig): PinoLogger {
  return pino({ level: config.logLevel, serializers: { err: safeError } });
}

/**
 * Nest's own logging (every `new Logger(context)`) written through `logger`. nestjs-pino's
 * per-request middleware (a pino-http child logger and an AsyncLocalStorage scope for every
 * request) is not installed: request lines come from `requestLog`, which costs a success nothing
 * when its line would not be written, and the few lines written while handling a request carry
 * the request id themselves.
 */
export function loggerOptions(logger: PinoLogger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}
