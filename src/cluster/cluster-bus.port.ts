import type { ClusterTopic } from './cluster-topic';

/**
 * Messages between instances. With one instance (no Redis) there is nobody to talk to and
 * `send` reports that nothing was sent; the outbox in PostgreSQL remains the source of truth.
 */
export abstract class ClusterBus {
  /** Sends to one instance; resolves false when the message could not be handed to Redis. */
  abstract send<T>(instanceId: string, topic: ClusterTopic<T>, message: T): Promise<boolean>;
  /** Handles this topic's messages sent to this instance (one handler per topic). */
  abstract on<T>(topic: ClusterTopic<T>, handler: (message: T) => void): void;
}
