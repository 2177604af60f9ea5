import type { ClusterMessageKind, ClusterMessageOf } from './cluster-message';

export type ClusterMessageHandler<K extends ClusterMessageKind> = (
  message: ClusterMessageOf<K>,
) => void;

/**
 * Messages between instances. With one instance (no Redis) there is nobody to talk to and
 * `send` reports that nothing was sent; the outbox in PostgreSQL remains the source of truth.
 */
export abstract class ClusterBus {
  /** Sends to one instance; resolves false when the message could not be handed to Redis. */
  abstract send(
    instanceId: string,
    message: ClusterMessageOf<ClusterMessageKind>,
  ): Promise<boolean>;
  abstract on<K extends ClusterMessageKind>(kind: K, handler: ClusterMessageHandler<K>): void;
}
