import type { ClusterTopic } from '../cluster/cluster-topic';
import { isArrayOf, isObjectOf, isSafeInteger } from '../common/shape';
import { isUserNotification, UserNotification } from './notification.view';

/** Notifications created on one instance for users with sessions on another. */
export interface NotificationsMessage {
  /** Committed together: one message per target instance for a whole group of results. */
  notifications: UserNotification[];
  /** Epoch ms of the commit, for the commit → frame latency metric. */
  committedAt: number;
}

export const NOTIFICATIONS_TOPIC: ClusterTopic<NotificationsMessage> = {
  name: 'notifications',
  accepts: isObjectOf<NotificationsMessage>({
    notifications: isArrayOf(isUserNotification),
    committedAt: isSafeInteger,
  }),
};
