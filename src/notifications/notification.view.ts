import type { MealLogOutcomeName } from '../meal-logs/meal-log-outcome.publisher';
import type { MealLogView } from '../meal-logs/meal-log.view';

/** A notification as clients see it (REST item, and the WebSocket frame without its `type`). */
export interface NotificationView {
  id: string;
  seq: number;
  event: MealLogOutcomeName;
  data: MealLogView;
  createdAt: string;
}

/** A notification with the user it is for (the view itself does not say). */
export interface UserNotification {
  userId: string;
  notification: NotificationView;
}

/** What an admin sees: the answer to "why did this user not see it?". */
export interface NotificationDeliveryView extends NotificationView {
  deliveredAt: string | null;
  ackedAt: string | null;
  deliveryAttempts: number;
  onlineSessionsAtCreation: number;
}
