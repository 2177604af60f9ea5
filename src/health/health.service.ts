import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RedisConnection } from '../cluster/redis.connection';
import { finishesWithin } from '../common/deadline';

const CHECK_TIMEOUT_MS = 2_000;

export type DependencyState = 'up' | 'down';

export interface Readiness {
  /** ok: everything up; degraded: serving, but Redis is down (cross-instance delivery waits); down: cannot serve. */
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, DependencyState>;
}

@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    // null without REDIS_URL
    @Inject(RedisConnection) private readonly redis: RedisConnection | null,
  ) {}

  /**
   * The database is required; Redis is not: without it each instance still serves its own
   * sockets and REST, so an instance must not be pulled from the load balancer for it.
   */
  async check(): Promise<Readiness> {
    const checks: Record<string, DependencyState> = { database: await this.database() };
    if (this.redis) checks.redis = this.redis.isUp ? 'up' : 'down';
    const status =
      checks.database === 'down' ? 'down' : checks.redis === 'down' ? 'degraded' : 'ok';
    return { status, checks };
  }

  /** A readiness probe must answer quickly even when the pool is stuck, hence the timeout. */
  private async database(): Promise<DependencyState> {
    const answered = await finishesWithin(
      this.dataSource.query('SELECT 1'),
      CHECK_TIMEOUT_MS,
    ).catch(() => false);
    return answered ? 'up' : 'down';
  }
}
