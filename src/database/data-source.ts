import { join } from 'node:path';
import { DataSource } from 'typeorm';

/**
 * The one DataSource definition, shared by the application (DatabaseModule), our migration CLI
 * (`npm run migration:run`) and the TypeORM CLI. Queries are plain SQL in the repositories, so
 * no entities are registered; schema changes happen only through migrations.
 */
export function createDataSource(url: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    // Compiled: dist/src/database → dist/migrations/*.js; under ts-jest/swc: src/database → migrations/*.ts.
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{js,ts}')],
    extra: { max: 20, connectionTimeoutMillis: 5_000 },
  });
}
