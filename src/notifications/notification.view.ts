import { Guard, isIsoInstant, isObjectOf, isOneOf, isSafeInteger, isString } from '../common/shape';
import {
  MEAL_LOG_OUTCOME_NAMES,
  MealLogOutcomeName,
} from '../meal-logs/meal-log-outcome.publisher';
import { isMealLogView, MealLogView } from '../meal-logs/meal-log.view';
import type { NotificationFrame } from '../realtime/server-frames';
import type { PushReason } from './push-schedule';

/**
 * A notification as clients see it (REST item, and the WebSocket frame without its `type`): the
 * protocol's frame (`id`, `seq`, `createdAt`) with this product's events and their meal log.
 */
export interface NotificationView extends NotificationFrame {
  event: MealLogOutcomeName;
  data: MealLogView;
}

/** A notification with the user it is for (the view itself does not say). */
export interface UserNotification {
  userId: string;
  notification: NotificationView;
}

export const isUserNotification: Guard<UserNotification> = isObjectOf<UserNotification>({
  userId: isString,
  notification: isObjectOf<NotificationView>({
    id: isString,
    seq: isSafeInteger,
    event: isOneOf(MEAL_LOG_OUTCOME_NAMES),
    data: isMealLogView,
    createdAt: isIsoInstant,
  }),
});

/**
 * What APNs made of one push to one device: `sent` (accepted), `rejected` (the token is invalid
 * and was removed), `retrying` (429, 5xx or no answer: tried again later), `failed` (refused for
 * another reason, or out of retries).
 */
export const PUSH_ATTEMPT_STATUSES = ['sent', 'rejected', 'retrying', 'failed'] as const;
export type PushAttemptStatus = (typeof PUSH_ATTEMPT_STATUSES)[number];

export interface PushAttemptView {
  deviceId: string;
  at: string;
  status: PushAttemptStatus;
  /** APNs' reason (`Unregistered`, `BadDeviceToken`, `TooManyRequests`, …) or what failed. */
  reason: string | null;
}

/**
 * How a notification came to be written to a session: `live` as it arrived, `replay` read from
 * the outbox when the session opened, `gap` read from the outbox to fill a gap before a live one,
 * `catch_up` by the periodic catch-up.
 */
export const DELIVERY_VIAS = ['live', 'replay', 'gap', 'catch_up'] as const;
export type DeliveryVia = (typeof DELIVERY_VIAS)[number];

/** One session a notification was written to. */
export interface SessionDeliveryView {
  sessionId: string;
  deviceId: string | null;
  /** The first write to it. */
  at: string;
  /** How that first write came about. */
  via: DeliveryVia;
  /** Writes to it, the first included (a reconnect racing a live write makes two). */
  attempts: number;
}

/** A notification's delivery record as stored (what the verdict is made from). */
export interface NotificationDeliveryRecord extends NotificationView {
  deliveredAt: string | null;
  ackedAt: string | null;
  deliveryAttempts: number;
  onlineSessionsAtCreation: number;
  foregroundSessionsAtCreation: number;
  /** Why it was to be pushed (null: no push was planned, APNs is not configured). */
  pushReason: PushReason | null;
  push: PushAttemptView[];
  /** Every session it was written to, first write first. */
  sessions: SessionDeliveryView[];
}

/** What an admin sees: the answer to "why did this user not see it?". */
export interface NotificationDeliveryView extends NotificationDeliveryRecord {
  /** The record in one line: "delivered over the socket in 43 ms, acknowledged after 1.2 s". */
  verdict: string;
}
