/*
 * For the TypeORM CLI, which needs a reachable server (DATABASE_URL), e.g.
 *   DATABASE_URL=postgres://… npx typeorm -d dist/src/database/typeorm-cli.data-source.js migration:show
 * `npm run migration:run` also covers the embedded database.
 */
import { loadConfig } from '../config/config.loader';
import { createDataSource } from './data-source';
import { migrationTimeouts } from './open-database';

const config = loadConfig();
const { url } = config.database;
if (url === null)
  throw new Error('DATABASE_URL must be set for the TypeORM CLI (or use npm run migration:run)');

export default createDataSource(url, migrationTimeouts(config));
