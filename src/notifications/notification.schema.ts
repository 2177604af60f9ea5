import { integer, objectSchema, oneOf, Schema, text } from '../common/json-schema';
import { MEAL_LOG_OUTCOME_NAMES } from '../meal-logs/meal-log-outcome.publisher';
import { MEAL_LOG_SCHEMA } from '../meal-logs/meal-log.schema';
import type { NotificationView } from './notification.view';

/** A Notification (the socket's `notification` frame without its `type`; REST's item). */
export const NOTIFICATION_SCHEMA: Schema<NotificationView> = objectSchema<NotificationView>({
  id: text({ format: 'uuid', description: 'De-duplicate by it: delivery is at-least-once' }),
  seq: integer({
    minimum: 1,
    description: "The user's sequence number: only grows; an `ack` names one",
  }),
  event: oneOf(MEAL_LOG_OUTCOME_NAMES),
  data: MEAL_LOG_SCHEMA,
  createdAt: text({ format: 'date-time' }),
});
