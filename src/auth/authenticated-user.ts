export type Role = 'admin';

/** Who a request or a WebSocket session acts for; only ever built from a verified token. */
export interface AuthenticatedUser {
  readonly userId: string;
  readonly roles: readonly string[];
  /** Epoch milliseconds at which the token stops being valid. */
  readonly expiresAt: number;
}
