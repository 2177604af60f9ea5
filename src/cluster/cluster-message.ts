import type { UserNotification } from '../notifications/notification.view';

/**
 * What one instance tells another, through that instance's own channel. Each message names its
 * target's local work, so an instance never receives traffic meant for others.
 */
export type ClusterMessage =
  | {
      kind: 'notifications';
      /** Committed together: one message per target instance for a whole group of results. */
      notifications: UserNotification[];
      committedAt: number;
    }
  | { kind: 'end_session'; sessionId: string; reason: 'replaced' };

export type ClusterMessageKind = ClusterMessage['kind'];
export type ClusterMessageOf<K extends ClusterMessageKind> = Extract<ClusterMessage, { kind: K }>;
