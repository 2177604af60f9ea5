import { isUserId } from '../common/text';
import type { AuthenticatedUser } from './authenticated-user';

/** A NumericDate as RFC 7519 defines it, within what `Date` and timers can hold. */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isOptionalNumericDate(value: unknown): boolean {
  return value === undefined || isNumericDate(value);
}

/**
 * The user a verified token's claims describe, or `null` when a claim has the wrong type or
 * shape. The signature, `exp` and `nbf` times are checked by jsonwebtoken before this; what it
 * lets through is checked here: `sub` is stored and logged as the user id, so it must be text
 * PostgreSQL can hold and a log line can show; `exp` is required (the contract), and every time
 * claim is a whole number of seconds.
 */
export function userFromClaims(payload: unknown): AuthenticatedUser | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const { sub, exp, nbf, iat, roles } = payload as Record<string, unknown>;
  if (!isUserId(sub)) return null;
  if (!isNumericDate(exp) || !isOptionalNumericDate(nbf) || !isOptionalNumericDate(iat)) {
    return null;
  }
  if (roles !== undefined && !isStringArray(roles)) return null;
  return { userId: sub, roles: roles ?? [], expiresAt: exp * 1000 };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
