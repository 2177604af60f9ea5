import { Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { JsonWebTokenError, TokenExpiredError, sign, verify } from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import { AuthenticatedUser } from './authenticated-user';
import { loadSigningSecret } from './signing-secret';
import { userFromClaims } from './token-claims';
import { VerifiedTokens } from './verified-tokens';

export type TokenProblem = 'missing' | 'malformed' | 'expired' | 'invalid';

export class InvalidTokenError extends Error {
  constructor(readonly problem: TokenProblem) {
    super(`Access token ${problem}`);
    this.name = 'InvalidTokenError';
  }
}

/** Pinned so a token can never choose its own algorithm (`none`, or RS/HS confusion). */
const ALGORITHMS = ['HS256'] as const;

/** About 3 MiB of tokens: every device of a few thousand users that keep coming back. */
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * Verifies access tokens. Used by the REST guard and by the WebSocket upgrade, which has to
 * decide before the socket exists (Nest guards do not run on connection).
 */
@Injectable()
export class TokenVerifier {
  /**
   * Given a string, jsonwebtoken first tries to parse it as a PEM public key on every call (and
   * fails): that attempt was 42 % of a POST's CPU in the W4 profile. A secret KeyObject skips it.
   */
  private readonly key: KeyObject;
  private readonly verified = new VerifiedTokens(VERIFIED_TOKENS_KEPT);

  constructor(config: AppConfig) {
    this.key = createSecretKey(Buffer.from(loadSigningSecret(config), 'utf8'));
  }

  verify(token: string | undefined | null): AuthenticatedUser {
    if (!token) throw new InvalidTokenError('missing');
    const known = this.verified.get(token, Date.now());
    if (known !== undefined) return known;
    let payload: unknown;
    try {
      payload = verify(token, this.key, { algorithms: [...ALGORITHMS] });
    } catch (error) {
      if (error instanceof TokenExpiredError) throw new InvalidTokenError('expired');
      if (error instanceof JsonWebTokenError && error.message === 'jwt malformed') {
        throw new InvalidTokenError('malformed');
      }
      throw new InvalidTokenError('invalid');
    }
    const user = userFromClaims(payload);
    if (!user) throw new InvalidTokenError('invalid');
    this.verified.remember(token, user);
    return user;
  }

  /** Signs a token; used by `npm run token` and by tests. */
  sign(userId: string, options: { roles?: string[]; ttlSeconds: number }): string {
    return sign({ sub: userId, roles: options.roles ?? [] }, this.key, {
      algorithm: ALGORITHMS[0],
      expiresIn: options.ttlSeconds,
    });
  }
}
