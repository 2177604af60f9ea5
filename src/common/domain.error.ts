/**
 * Every failure a REST client can cause or see, by code. Services throw `DomainError`; the HTTP
 * filter maps codes to statuses in one exhaustive switch. (WebSocket frames have their own error
 * codes, in the client frame parser.)
 */
export const DOMAIN_ERROR_CODES = [
  'meal_log_not_found',
  'invalid_cursor',
  'invalid_idempotency_key',
  'idempotency_key_reused',
  'idempotency_request_in_progress',
  'meal_log_rate_limited',
  'database_unavailable',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** When the client may try again, for a refusal that passes with time (`Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
