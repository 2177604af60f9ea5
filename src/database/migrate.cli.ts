/*
 * npm run migration:run | migration:revert — the same migrations the service applies at start-up,
 * against DATABASE_URL or, when it is unset, the embedded PostgreSQL in DATA_DIR.
 */
import { ConsoleLogger } from '@nestjs/common';
import { loadConfig } from '../config/config.loader';
import { createDataSource } from './data-source';
import { EmbeddedPostgresServer } from './embedded-postgres.server';
import { describeDatabaseUrl, migrationTimeouts } from './open-database';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert')
    throw new Error('usage: migrate.cli.js run|revert');
  const config = loadConfig();
  const logger = new ConsoleLogger('Migrations');
  const embedded =
    config.database.url === null ? new EmbeddedPostgresServer(config.database.dataDir) : null;
  const url = config.database.url ?? (await embedded!.start());
  const dataSource = createDataSource(url, migrationTimeouts(config));
  try {
    await dataSource.initialize();
    logger.log(`Database ${describeDatabaseUrl(url)}`);
    if (command === 'run') {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.log(
        applied.length ? `Applied: ${applied.map((m) => m.name).join(', ')}` : 'Nothing to apply',
      );
    } else {
      await dataSource.undoLastMigration({ transaction: 'each' });
      logger.log('Reverted the last migration');
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
