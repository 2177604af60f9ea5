import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TimeoutClosingClient } from './timeout-closing.client';

/** How long PostgreSQL may take: see `createDataSource`. */
export interface DatabaseTimeouts {
  readonly connectMs: number;
  /** null: statements run as long as they take (migrations, which an operator watches). */
  readonly statementMs: number | null;
}

/**
 * How much longer than the server's own statement timeout the client waits for an answer. The
 * server's cancellation is the clean one (an error, the connection still usable); the client's
 * only fires when the server cannot answer at all (hung, frozen, cut off).
 */
const UNANSWERED_AFTER_STATEMENT_TIMEOUT_MS = 1_000;
/**
 * Idle pooled connections are probed after this long, so one whose server host vanished (power,
 * network) is found dead rather than handed out. A hung server's kernel still answers the probes:
 * the statement timeouts cover that.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
const POOL_SIZE = 20;

/**
 * The one DataSource definition, shared by the application (DatabaseModule), our migration CLI
 * (`npm run migration:run`) and the TypeORM CLI. Queries are plain SQL in the repositories, so
 * no entities are registered; schema changes happen only through migrations.
 *
 * No wait on PostgreSQL is unbounded: a connection (new, or free in the pool) comes within
 * `connectMs`, and a statement is cancelled by the server after `statementMs` or abandoned by the
 * client a second later, its connection closed (TimeoutClosingClient). Each of those errors
 * counts as "database unavailable" (src/common/database-unavailable.ts): 503 and retry later.
 */
export function createDataSource(url: string, timeouts: DatabaseTimeouts): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    // Compiled: dist/src/database → dist/migrations/*.js; under ts-jest/swc: src/database → migrations/*.ts.
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{js,ts}')],
    // Handed to pg.Pool, and by it to each client.
    extra: {
      max: POOL_SIZE,
      Client: TimeoutClosingClient,
      connectionTimeoutMillis: timeouts.connectMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      ...(timeouts.statementMs === null
        ? {}
        : {
            statement_timeout: timeouts.statementMs,
            query_timeout: timeouts.statementMs + UNANSWERED_AFTER_STATEMENT_TIMEOUT_MS,
          }),
    },
  });
}
