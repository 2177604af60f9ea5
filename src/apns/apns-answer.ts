/** What APNs answered one push: its HTTP status (0: no answer at all) and reason. */
export interface ApnsAnswer {
  status: number;
  /** APNs' `reason` (`BadDeviceToken`, `Unregistered`, …), or what failed when nothing answered. */
  reason: string | null;
  /** For 410: since when the token has been invalid (epoch ms). */
  timestamp: number | null;
}

/**
 * What an answer means for the device: `sent`; `rejected`, the token is invalid for good (the app
 * was removed, or the token belongs to another app or environment) and is forgotten; `retry`,
 * APNs could not take it now (throttled, failing, unreachable, or a provider token that expired
 * and was renewed); `failed`, refused for a reason a retry would not change (a configuration
 * error such as a wrong topic or key).
 */
export type ApnsVerdict = 'sent' | 'rejected' | 'retry' | 'failed';

/** Reasons a 400 gives when the device token itself is wrong. */
const INVALID_TOKEN_REASONS: ReadonlySet<string> = new Set([
  'BadDeviceToken',
  'DeviceTokenNotForTopic',
]);

export function verdictOf(answer: ApnsAnswer): ApnsVerdict {
  const { status, reason } = answer;
  if (status === 200) return 'sent';
  if (status === 410) return 'rejected';
  if (status === 400 && reason !== null && INVALID_TOKEN_REASONS.has(reason)) return 'rejected';
  if (status === 0 || status === 429 || status >= 500) return 'retry';
  if (status === 403 && reason === 'ExpiredProviderToken') return 'retry';
  return 'failed';
}
