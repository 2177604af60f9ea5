import { Injectable } from '@nestjs/common';
import { DevicePushTokenRepository } from './device-push-token.repository';
import type { PushTarget } from './push-target';

/**
 * What other modules may ask of Devices: where a user's pushes go, and to forget a token APNs
 * refused. The tokens' table and its queries stay this module's own.
 */
@Injectable()
export class DevicesService {
  constructor(private readonly tokens: DevicePushTokenRepository) {}

  /** Every device with a token, per user (each user asked for has an entry, maybe empty). */
  pushTargetsOf(userIds: string[]): Promise<Map<string, PushTarget[]>> {
    return this.tokens.targetsOf(userIds);
  }

  /**
   * Forgets a token APNs refused as invalid, unless the app registered it again after
   * `invalidSince` (APNs' timestamp for an unregistered token).
   */
  forgetPushToken(token: string, invalidSince: Date | null): Promise<void> {
    return this.tokens.forget(token, invalidSince);
  }
}
