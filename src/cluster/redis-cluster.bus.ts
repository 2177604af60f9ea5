import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ServiceInstance } from '../common/service-instance';
import { Metrics } from '../metrics/metrics';
import { parseJsonRefusingPrototypeKeys } from '../common/prototype-keys';
import { ClusterBus } from './cluster-bus.port';
import type { ClusterTopic } from './cluster-topic';
import { RedisConnection } from './redis.connection';

/** What goes over the wire: the topic's name and its message. */
interface Envelope {
  topic: string;
  message: unknown;
  /** The sending instance, on broadcasts: it hears its own and ignores them. */
  from?: string;
}

/** Why a message from Redis was dropped (a metric label). */
export type DropReason = 'malformed' | 'unknown_topic' | 'invalid_message' | 'handler_failed';

interface Subscription {
  topic: ClusterTopic<unknown>;
  handler: (message: unknown) => void;
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Envelope>).topic === 'string' &&
    'message' in value
  );
}

/**
 * One Redis channel per instance: a sender publishes once to each instance that needs the
 * message (found through the presence store), never to everyone for receivers to filter. A
 * channel shared by all carries the few messages that are everyone's concern (`broadcast`).
 *
 * Redis is not trusted to hold only what MealPulse wrote (anyone who can reach it can publish):
 * every message is parsed without prototype keys and checked against its topic's schema, and one
 * that fails is counted and dropped here, never thrown inside the Redis client. Nothing is lost
 * by a drop: the notifications outbox is the source of truth, and the periodic catch-up delivers
 * what a dropped message carried.
 */
@Injectable()
export class RedisClusterBus extends ClusterBus implements OnModuleInit {
  private readonly logger = new Logger(RedisClusterBus.name);
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    const own = this.channel(this.instance.id);
    const everyone = this.broadcastChannel();
    this.redis.subscriber.on('message', (channel: string, text: string) => {
      if (channel === own || channel === everyone) this.dispatch(text);
    });
    await this.redis.subscriber.subscribe(own, everyone);
  }

  send<T>(instanceId: string, topic: ClusterTopic<T>, message: T): Promise<boolean> {
    return this.publish(this.channel(instanceId), { topic: topic.name, message }, instanceId);
  }

  broadcast<T>(topic: ClusterTopic<T>, message: T): Promise<boolean> {
    return this.publish(
      this.broadcastChannel(),
      { topic: topic.name, message, from: this.instance.id },
      'every instance',
    );
  }

  private async publish(channel: string, envelope: Envelope, to: string): Promise<boolean> {
    try {
      await this.redis.commands.publish(channel, JSON.stringify(envelope));
      this.metrics.redisMessagesPublished.inc({ kind: envelope.topic });
      return true;
    } catch (error) {
      this.logger.warn(`could not publish ${envelope.topic} to ${to}: ${(error as Error).message}`);
      return false;
    }
  }

  on<T>(topic: ClusterTopic<T>, handler: (message: T) => void): void {
    this.subscriptions.set(topic.name, {
      topic,
      handler: handler as (message: unknown) => void,
    });
  }

  private channel(instanceId: string): string {
    return `${this.redis.keyPrefix}instance:${instanceId}`;
  }

  private broadcastChannel(): string {
    return `${this.redis.keyPrefix}instances`;
  }

  private dispatch(text: string): void {
    let envelope: unknown;
    try {
      envelope = parseJsonRefusingPrototypeKeys(text);
    } catch {
      envelope = undefined;
    }
    if (!isEnvelope(envelope)) return this.drop('unknown', 'malformed');
    if (envelope.from === this.instance.id) return;
    const subscription = this.subscriptions.get(envelope.topic);
    // An unknown name is not used as a label: whoever writes to Redis would choose the series.
    if (!subscription) return this.drop('unknown', 'unknown_topic');
    const { topic, handler } = subscription;
    if (!topic.accepts(envelope.message)) return this.drop(topic.name, 'invalid_message');
    try {
      handler(envelope.message);
    } catch (error) {
      this.logger.error({ err: error }, `handling a ${topic.name} message failed`);
      this.metrics.redisMessagesDropped.inc({ topic: topic.name, reason: 'handler_failed' });
    }
  }

  /** Counted, and logged without the message's content (it may hold meal text). */
  private drop(topic: string, reason: DropReason): void {
    this.metrics.redisMessagesDropped.inc({ topic, reason });
    this.logger.warn(`dropped a message from Redis (topic ${topic}): ${reason}`);
  }
}
