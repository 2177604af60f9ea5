import type { AuthenticatedUser } from './authenticated-user';

/**
 * Tokens whose signature and claims were verified, kept until they expire: a phone sends the
 * same token with every request and every reconnect until it refreshes it, and re-checking its
 * HMAC each time was about a tenth of a REST request's CPU (W4). The key is the whole token,
 * signature included, so only the exact bytes once verified are ever found here; there is no
 * revocation to miss (tokens are stateless), and expiry is checked on every hit. At most `size`
 * tokens are held, the oldest dropped first.
 */
export class VerifiedTokens {
  private readonly users = new Map<string, AuthenticatedUser>();

  constructor(private readonly size: number) {}

  /** The user of a token verified before and not expired at `nowMs`; undefined otherwise. */
  get(token: string, nowMs: number): AuthenticatedUser | undefined {
    const user = this.users.get(token);
    if (user === undefined) return undefined;
    if (nowMs < user.expiresAt) return user;
    this.users.delete(token);
    return undefined;
  }

  remember(token: string, user: AuthenticatedUser): void {
    if (this.users.size >= this.size && !this.users.has(token)) {
      const oldest = this.users.keys().next();
      if (!oldest.done) this.users.delete(oldest.value);
    }
    this.users.set(token, user);
  }
}
