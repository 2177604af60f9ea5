import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { finishesWithin } from '../common/deadline';
import { EmbeddedPostgresServer } from './embedded-postgres.server';

/**
 * How long closing the pool may take: a goodbye to each idle connection, answered by a server
 * that works in well under a second. A hung server never answers, and its connections are then
 * left to close with the process.
 */
const POOL_END_TIMEOUT_MS = 2_000;

/**
 * Closes the pool and then the embedded cluster. This runs in `onApplicationShutdown`, the last
 * phase of Nest's shutdown, because the workers and the gateway still write (job results, session
 * audit) during `beforeApplicationShutdown`.
 */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseLifecycle.name);

  constructor(
    private readonly dataSource: DataSource,
    // null when DATABASE_URL points at a server of its own
    @Inject(EmbeddedPostgresServer) private readonly embedded: EmbeddedPostgresServer | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (
      this.dataSource.isInitialized &&
      !(await finishesWithin(this.dataSource.destroy(), POOL_END_TIMEOUT_MS))
    )
      this.logger.warn(
        `database pool not closed within ${POOL_END_TIMEOUT_MS} ms; its connections close with the process`,
      );
    await this.embedded?.stop();
  }
}
