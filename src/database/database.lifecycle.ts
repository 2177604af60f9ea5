import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EmbeddedPostgresServer } from './embedded-postgres.server';

/**
 * Closes the pool and then the embedded cluster. This runs in `onApplicationShutdown`, the last
 * phase of Nest's shutdown, because the workers and the gateway still write (job results, session
 * audit) during `beforeApplicationShutdown`.
 *
 * Closing the pool does not wait on the server, so a hung one cannot hold it: idle connections
 * are dropped without waiting for the server's goodbye, those still in use are released (their
 * statements fail within the statement timeout), and one being opened fails within
 * DATABASE_CONNECT_TIMEOUT_MS.
 */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    // null when DATABASE_URL points at a server of its own
    @Inject(EmbeddedPostgresServer) private readonly embedded: EmbeddedPostgresServer | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}
