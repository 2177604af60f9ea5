import { ApiProperty } from '@nestjs/swagger';
import { MealLogResponse } from '../../meal-logs/dto/meal-log.response';
import {
  MEAL_LOG_OUTCOME_NAMES,
  MealLogOutcomeName,
} from '../../meal-logs/meal-log-outcome.publisher';
import {
  DELIVERY_VIAS,
  DeliveryVia,
  PUSH_ATTEMPT_STATUSES,
  PushAttemptStatus,
} from '../notification.view';
import { PUSH_REASONS, PushReason } from '../push-schedule';

/** OpenAPI description of a Notification; the runtime shape is `NotificationView`. */
export class NotificationResponse {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'Grows with every notification of the user; an ack names one',
  })
  seq!: number;

  @ApiProperty({ enum: MEAL_LOG_OUTCOME_NAMES, enumName: 'NotificationEvent' })
  event!: MealLogOutcomeName;

  @ApiProperty({ type: MealLogResponse, description: 'The meal log as it was when it ended' })
  data!: MealLogResponse;

  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class NotificationListResponse {
  @ApiProperty({ type: [NotificationResponse], description: 'Ascending seq' })
  items!: NotificationResponse[];
}

export class PushAttemptResponse {
  @ApiProperty({ type: String }) deviceId!: string;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;

  @ApiProperty({
    enum: PUSH_ATTEMPT_STATUSES,
    enumName: 'PushAttemptStatus',
    description:
      'sent (accepted), rejected (invalid token, removed), retrying (tried again later), failed',
  })
  status!: PushAttemptStatus;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'APNs’ reason (Unregistered, BadDeviceToken, …) or what failed',
  })
  reason!: string | null;
}

export class SessionDeliveryResponse {
  @ApiProperty({ type: String, format: 'uuid' }) sessionId!: string;
  @ApiProperty({ type: String, nullable: true }) deviceId!: string | null;

  @ApiProperty({ type: String, format: 'date-time', description: 'The first write to it' })
  at!: string;

  @ApiProperty({
    enum: DELIVERY_VIAS,
    enumName: 'DeliveryVia',
    description:
      'live (as it arrived), replay (when the session opened), gap (filling a gap before a live one), catch_up (the periodic catch-up)',
  })
  via!: DeliveryVia;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Writes to it, the first included' })
  attempts!: number;
}

/** What an admin sees of a notification: the answer to "why did this user not see it?". */
export class NotificationDeliveryResponse extends NotificationResponse {
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'First written to a socket',
  })
  deliveredAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ackedAt!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0 }) deliveryAttempts!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) onlineSessionsAtCreation!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) foregroundSessionsAtCreation!: number;

  @ApiProperty({
    enum: PUSH_REASONS,
    enumName: 'PushReason',
    nullable: true,
    description: 'Why it was to be pushed; null when no push was planned',
  })
  pushReason!: PushReason | null;

  @ApiProperty({ type: [PushAttemptResponse] }) push!: PushAttemptResponse[];

  @ApiProperty({
    type: [SessionDeliveryResponse],
    description: 'Every session it was written to, first write first',
  })
  sessions!: SessionDeliveryResponse[];

  @ApiProperty({
    type: String,
    description:
      'The record in one line: "delivered over the socket in 43 ms, acknowledged after 1.2 s"',
  })
  verdict!: string;
}

export class NotificationDeliveryPageResponse {
  @ApiProperty({ type: [NotificationDeliveryResponse], description: 'Newest first' })
  items!: NotificationDeliveryResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The cursor of the next page; null on the last',
  })
  nextCursor!: string | null;
}
