import { Global, Module } from '@nestjs/common';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { ClusterBus } from './cluster-bus.port';
import { LocalClusterBus } from './local-cluster.bus';
import { RedisClusterBus } from './redis-cluster.bus';
import { RedisConnection } from './redis.connection';

/**
 * Scale-out plumbing. Without REDIS_URL: no connection and a bus with nobody on it. With it: the
 * Redis connections (also used by the Redis presence store) and per-instance channels.
 */
@Global()
@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.redis.url === null ? null : new RedisConnection(config),
    },
    {
      provide: ClusterBus,
      inject: [RedisConnection, ServiceInstance, Metrics],
      useFactory: (
        redis: RedisConnection | null,
        instance: ServiceInstance,
        metrics: Metrics,
      ): ClusterBus =>
        redis === null ? new LocalClusterBus() : new RedisClusterBus(redis, instance, metrics),
    },
  ],
  exports: [RedisConnection, ClusterBus],
})
export class ClusterModule {}
