import { Global, Logger, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseLifecycle } from './database.lifecycle';
import { openDatabase } from './open-database';
import { EmbeddedPostgresServer } from './embedded-postgres.server';

@Global()
@Module({
  providers: [
    {
      provide: EmbeddedPostgresServer,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.database.url === null ? new EmbeddedPostgresServer(config.database.dataDir) : null,
    },
    {
      provide: DataSource,
      inject: [AppConfig, EmbeddedPostgresServer],
      useFactory: (config: AppConfig, embedded: EmbeddedPostgresServer | null) =>
        openDatabase(config, embedded, new Logger('Database')),
    },
    DatabaseLifecycle,
  ],
  exports: [DataSource],
})
export class DatabaseModule {}
