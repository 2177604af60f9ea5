import type { SessionPlacement } from '../presence/session-placement';
import type { UserNotification } from './notification.view';

/** A notification that has just committed, as every channel is handed it. */
export interface CommittedNotification extends UserNotification {
  /** Epoch ms of the commit (the start of the delivery latency). */
  committedAt: number;
  /** Where the user's sessions were when it was created (the lookup before its statement). */
  placementsAtCreation: SessionPlacement[];
  /** When its push falls due (epoch ms), as written with it; null: no push. */
  pushDueAt: number | null;
}

/**
 * A way to put a new notification in front of its user: the WebSocket (every live session, on any
 * instance) and APNs (devices whose app cannot hold a socket). The outbox row exists before any
 * channel is asked, so a channel that fails or is slow loses nothing: replay and the re-push
 * catch up on sockets, the push schedule is data.
 */
export abstract class NotificationChannel {
  /** Returns at once and never throws: no channel holds up another, nor the results' writer. */
  abstract deliver(committed: CommittedNotification[]): void;
}
