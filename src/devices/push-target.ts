export const PUSH_ENVIRONMENTS = ['production', 'sandbox'] as const;
/** Which APNs environment issued a device token: App Store and TestFlight builds, or Xcode's. */
export type PushEnvironment = (typeof PUSH_ENVIRONMENTS)[number];

/** Where a push for one device of a user goes. */
export interface PushTarget {
  deviceId: string;
  token: string;
  environment: PushEnvironment;
}

/** `[A-Za-z0-9._-]{1,64}`, the same device id the WebSocket's `?deviceId=` takes. */
export const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
