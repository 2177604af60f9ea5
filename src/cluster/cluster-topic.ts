import type { Guard } from '../common/shape';

/**
 * One kind of message between instances, defined by the feature that sends and handles it. The
 * guard is the message's schema: whatever arrives from Redis is checked against it before any
 * handler sees it, so a handler only ever gets what a MealPulse instance could have sent.
 */
export interface ClusterTopic<T> {
  readonly name: string;
  readonly accepts: Guard<T>;
}
