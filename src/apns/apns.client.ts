import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Notification, Provider } from '@parse/node-apn';
import type { ApnsConfig } from '../config/app-config';
import type { ApnsAnswer } from './apns-answer';

/** Which APNs environment a device token was issued by (each has its own endpoint). */
export type ApnsEnvironment = keyof ApnsConfig['urls'];

/** Where one push goes: a device token and the environment that issued it. */
export interface ApnsDevice {
  token: string;
  environment: ApnsEnvironment;
}

/** What one push says: the alert, the id that collapses repeats on the device, and the body. */
export interface ApnsPush {
  alert: { title: string; body: string };
  /** `apns-collapse-id`: a later push with the same id replaces the earlier one on the device. */
  collapseId: string;
  /** The body's own keys besides `aps`. */
  data: Record<string, string | number>;
}

/** How long APNs keeps trying to reach a device that is offline. */
const EXPIRY_SECONDS = 24 * 3_600;
/** A request APNs has not answered by then counts as no answer (and is retried later). */
const REQUEST_TIMEOUT_MS = 5_000;
/** How long shutdown waits for the library to close its connections. */
const SHUTDOWN_WAIT_MS = 2_000;

/**
 * The APNs provider API, through @parse/node-apn: one HTTP/2 connection per endpoint, kept open
 * and pinged, an ES256 provider token (kid = APNS_KEY_ID, iss = APNS_TEAM_ID) reused for every
 * request and renewed by the library after 55 minutes, before Apple's hour runs out. Retries
 * are the push channel's (with back-off, as data), so the library's own immediate ones are off.
 */
@Injectable()
export class ApnsClient implements OnApplicationShutdown {
  private readonly providers = new Map<string, Provider>();

  constructor(private readonly config: ApnsConfig) {}

  async send(device: ApnsDevice, push: ApnsPush): Promise<ApnsAnswer> {
    const notification = new Notification();
    notification.topic = this.config.topic;
    notification.pushType = 'alert';
    notification.collapseId = push.collapseId;
    notification.expiry = Math.floor(Date.now() / 1000) + EXPIRY_SECONDS;
    // Exactly the contract's body: the library's setters would add keys of their own.
    notification.rawPayload = { aps: { alert: push.alert, sound: 'default' }, ...push.data };
    try {
      const { sent, failed } = await this.provider(device.environment).send(
        notification,
        device.token,
      );
      if (sent.length > 0) return { status: 200, reason: null, timestamp: null };
      const failure = failed[0];
      // Failures come as an HTTP answer with APNs' reason, as a status with only an error (500
      // InternalServerError, 403 ExpiredProviderToken), or as an error alone (no answer).
      const timestamp = Number(failure?.response?.timestamp);
      return {
        status: failure?.status ?? 0,
        reason: failure?.response?.reason ?? failure?.error?.message ?? null,
        timestamp: Number.isFinite(timestamp) ? timestamp : null,
      };
    } catch (error) {
      return { status: 0, reason: (error as Error).message, timestamp: null };
    }
  }

  /**
   * Closes the connections. The library calls back once a session has closed, which a session it
   * destroyed after a connection error never does, hence the bound.
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.providers.values()].map(
        (provider) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
            void provider.shutdown(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  /** One provider (one connection) per endpoint; both environments share it under an override. */
  private provider(environment: ApnsEnvironment): Provider {
    const url = new URL(this.config.urls[environment]);
    let provider = this.providers.get(url.host);
    if (!provider) {
      provider = new Provider({
        token: { key: this.config.keyPem, keyId: this.config.keyId, teamId: this.config.teamId },
        // The library sends `address` as :authority and connects to `port`, which it passes to
        // tls.connect whether or not the address names one.
        address: url.host,
        port: Number(url.port || 443),
        production: environment === 'production',
        connectionRetryLimit: 0,
        requestTimeout: REQUEST_TIMEOUT_MS,
      });
      this.providers.set(url.host, provider);
    }
    return provider;
  }
}
