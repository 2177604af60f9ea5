import { retryDelayMs } from '../common/retry-policy';

/**
 * Why a notification is to be pushed: no session of the user had its app in the foreground when
 * it was created (pushed at once), or one had, and the push waits for an ack that did not come.
 */
export const PUSH_REASONS = ['no_foreground_session', 'ack_deadline'] as const;
export type PushReason = (typeof PUSH_REASONS)[number];

export interface PushPlan {
  reason: PushReason;
  dueAt: Date;
}

/** Base of the back-off between two rounds of a push that APNs could not take (429, 5xx). */
export const PUSH_RETRY_BASE_DELAY_MS = 1_000;

/**
 * When a new notification is pushed: at once if none of the user's sessions is in the
 * foreground (none at all, or every app in the background), else once the ack deadline has
 * passed, unless an ack cancels it first.
 */
export function planPush(
  createdAt: Date,
  foregroundSessions: number,
  ackDeadlineMs: number,
): PushPlan {
  return foregroundSessions === 0
    ? { reason: 'no_foreground_session', dueAt: createdAt }
    : { reason: 'ack_deadline', dueAt: new Date(createdAt.getTime() + ackDeadlineMs) };
}

/**
 * After round `attempt` of a push left some devices unsettled: when to try them again, or null
 * when the push has had all its attempts.
 */
export function nextPushRound(
  attempt: number,
  maxAttempts: number,
  now: number,
  random: () => number = Math.random,
): Date | null {
  if (attempt >= maxAttempts) return null;
  return new Date(now + retryDelayMs(attempt, PUSH_RETRY_BASE_DELAY_MS, random));
}
