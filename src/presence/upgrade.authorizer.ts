import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { bearerToken } from '../auth/jwt-auth.guard';
import { InvalidTokenError, TokenVerifier } from '../auth/token.verifier';
import { AppConfig } from '../config/app-config';
import { AddressRateLimit } from './address-rate.limit';
import { PresenceService } from './presence.service';

/** A deviceId as the upgrade accepts it (the same rule as a push token's device). */
export const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** An `after` cursor: a seq, digits only, within a safe integer. */
export const SEQ = /^\d{1,15}$/;

/** What the upgrade established, handed to the gateway with the socket. */
export interface UpgradeContext {
  user: AuthenticatedUser;
  deviceId: string | null;
  /** `?after=<seq>`: replay everything after this seq instead of the unacknowledged. */
  after: number | null;
  remoteAddress: string | null;
  userAgent: string | null;
}

export type UpgradeDecision =
  | { accepted: true; context: UpgradeContext; release: () => void }
  | { accepted: false; status: 400 | 401 | 403 | 429 | 503; message: string };

type Refusal = Extract<UpgradeDecision, { accepted: false }>;

/**
 * Decides an upgrade before the socket exists (Nest guards only run on messages): origin, token,
 * query parameters and the per-user session limit across all instances. Upgrades still in flight
 * here count against the limit in arrival order, so a burst of parallel upgrades cannot slip past.
 */
@Injectable()
export class UpgradeAuthorizer {
  private readonly inFlight = new Map<string, number>();
  private readonly perAddress: AddressRateLimit | null;
  private accepting = true;

  constructor(
    private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly presence: PresenceService,
  ) {
    const perSecond = config.ws.maxUpgradesPerAddressPerSecond;
    this.perAddress = perSecond > 0 ? new AddressRateLimit(perSecond) : null;
  }

  /** From now on every upgrade is answered 503 (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  async authorize(request: IncomingMessage, url: URL): Promise<UpgradeDecision> {
    const checked = this.check(request, url);
    if ('accepted' in checked) return checked;
    const { user, deviceId } = checked;

    // Take a place in line before looking at the sessions, which may take a round trip.
    const ahead = this.inFlight.get(user.userId) ?? 0;
    this.inFlight.set(user.userId, ahead + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(user.userId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(user.userId, left);
      else this.inFlight.delete(user.userId);
    };
    // The session this device already has is about to be replaced, so it does not count.
    const held = (await this.presence.placementsOf(user.userId)).filter(
      (s) => deviceId === null || s.deviceId !== deviceId,
    ).length;
    if (held + ahead >= this.config.ws.maxSessionsPerUser) {
      release();
      return {
        accepted: false,
        status: 429,
        message: `At most ${this.config.ws.maxSessionsPerUser} sessions per user`,
      };
    }
    return { accepted: true, release, context: checked };
  }

  /** Everything decidable from the request alone. */
  private check(request: IncomingMessage, url: URL): Refusal | UpgradeContext {
    if (!this.accepting)
      return { accepted: false, status: 503, message: 'Server is shutting down' };
    // Before the token is verified: a flood from one address must stay cheap to refuse.
    if (this.perAddress && !this.perAddress.allows(request.socket.remoteAddress ?? 'unknown')) {
      return {
        accepted: false,
        status: 429,
        message: 'Too many upgrades from this address; retry with back-off',
      };
    }

    const origin = request.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin)) {
      return { accepted: false, status: 403, message: 'Origin not allowed' };
    }

    let user: AuthenticatedUser;
    try {
      user = this.verifier.verify(
        bearerToken(request.headers.authorization) ?? url.searchParams.get('access_token'),
      );
    } catch (error) {
      if (error instanceof InvalidTokenError)
        return { accepted: false, status: 401, message: error.message };
      throw error;
    }

    const deviceId = url.searchParams.get('deviceId');
    if (deviceId !== null && !DEVICE_ID.test(deviceId)) {
      return {
        accepted: false,
        status: 400,
        message: 'deviceId must be 1-64 characters of [A-Za-z0-9._-]',
      };
    }
    const after = url.searchParams.get('after');
    if (after !== null && !SEQ.test(after)) {
      return { accepted: false, status: 400, message: 'after must be a non-negative integer seq' };
    }
    return {
      user,
      deviceId,
      after: after === null ? null : Number(after),
      remoteAddress: request.socket.remoteAddress ?? null,
      userAgent: request.headers['user-agent']?.slice(0, 256) ?? null,
    };
  }

  private originAllowed(origin: string): boolean {
    try {
      return this.config.ws.allowedOrigins.includes(new URL(origin).origin);
    } catch {
      return false;
    }
  }
}
