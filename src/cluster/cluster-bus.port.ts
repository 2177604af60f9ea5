import type { ClusterTopic } from './cluster-topic';

/**
 * Messages between instances. With one instance (no Redis) there is nobody to talk to and
 * `send` reports that nothing was sent; the outbox in PostgreSQL remains the source of truth.
 */
export abstract class ClusterBus {
  /** Sends to one instance; resolves false when the message could not be handed to Redis. */
  abstract send<T>(instanceId: string, topic: ClusterTopic<T>, message: T): Promise<boolean>;
  /**
   * Sends to every other instance, for the rare messages that are everyone's concern (an admin
   * watching the deployment); resolves false when it could not be handed to Redis.
   */
  abstract broadcast<T>(topic: ClusterTopic<T>, message: T): Promise<boolean>;
  /** Handles this topic's messages sent to this instance (one handler per topic). */
  abstract on<T>(topic: ClusterTopic<T>, handler: (message: T) => void): void;
}
