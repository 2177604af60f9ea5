import type { LoggerService } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { createDataSource, DatabaseTimeouts } from './data-source';
import type { EmbeddedPostgresServer } from './embedded-postgres.server';

/** Never log a password: keep the host, port and database name only. */
export function describeDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

/**
 * Connects to DATABASE_URL, or starts the embedded cluster when it is unset, and applies pending
 * migrations before anything else touches the schema. Migrations run on a connection of their
 * own without the statement timeout: building an index on a large table may take longer than any
 * request should.
 */
export async function openDatabase(
  config: AppConfig,
  embedded: EmbeddedPostgresServer | null,
  logger: LoggerService,
): Promise<DataSource> {
  const url = config.database.url ?? (await embedded!.start());
  const where = describeDatabaseUrl(url);
  logger.log(
    embedded
      ? `Using embedded PostgreSQL at ${where} (data in ${config.database.dataDir})`
      : `Using PostgreSQL at ${where}`,
  );
  const migrator = createDataSource(url, migrationTimeouts(config));
  await migrator.initialize();
  try {
    const applied = await migrator.runMigrations({ transaction: 'each' });
    if (applied.length > 0) {
      logger.log(
        `Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`,
      );
    }
  } finally {
    await migrator.destroy();
  }
  const dataSource = createDataSource(url, {
    connectMs: config.database.connectTimeoutMs,
    statementMs: config.database.statementTimeoutMs,
  });
  await dataSource.initialize();
  return dataSource;
}

/** For migrations and the CLIs: connections as bounded as the service's, statements not. */
export function migrationTimeouts(config: AppConfig): DatabaseTimeouts {
  return { connectMs: config.database.connectTimeoutMs, statementMs: null };
}
