import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ServiceInstance } from '../common/service-instance';
import { Metrics } from '../metrics/metrics';
import { ClusterBus, ClusterMessageHandler } from './cluster-bus.port';
import type { ClusterMessage, ClusterMessageKind, ClusterMessageOf } from './cluster-message';
import { RedisConnection } from './redis.connection';

/**
 * One Redis channel per instance: a sender publishes once to each instance that needs the
 * message (found through the presence store), never to everyone for receivers to filter.
 */
@Injectable()
export class RedisClusterBus extends ClusterBus implements OnModuleInit {
  private readonly logger = new Logger(RedisClusterBus.name);
  private readonly handlers = new Map<
    ClusterMessageKind,
    ClusterMessageHandler<ClusterMessageKind>
  >();

  constructor(
    private readonly redis: RedisConnection,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    const own = this.channel(this.instance.id);
    this.redis.subscriber.on('message', (channel: string, text: string) => {
      if (channel === own) this.dispatch(text);
    });
    await this.redis.subscriber.subscribe(own);
  }

  async send(instanceId: string, message: ClusterMessageOf<ClusterMessageKind>): Promise<boolean> {
    try {
      await this.redis.commands.publish(this.channel(instanceId), JSON.stringify(message));
      this.metrics.redisMessagesPublished.inc({ kind: message.kind });
      return true;
    } catch (error) {
      this.logger.warn(
        `could not publish ${message.kind} to ${instanceId}: ${(error as Error).message}`,
      );
      return false;
    }
  }

  on<K extends ClusterMessageKind>(kind: K, handler: ClusterMessageHandler<K>): void {
    this.handlers.set(kind, handler as unknown as ClusterMessageHandler<ClusterMessageKind>);
  }

  private channel(instanceId: string): string {
    return `${this.redis.keyPrefix}instance:${instanceId}`;
  }

  private dispatch(text: string): void {
    let message: ClusterMessage;
    try {
      message = JSON.parse(text) as ClusterMessage;
    } catch {
      this.logger.warn('ignored a malformed cluster message');
      return;
    }
    const handler = this.handlers.get(message.kind);
    if (handler) handler(message);
    else this.logger.warn(`no handler for cluster message ${message.kind}`);
  }
}
