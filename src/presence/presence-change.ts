import {
  Guard,
  isArrayOf,
  isIsoInstant,
  isNullable,
  isObjectOf,
  isOneOf,
  isSafeInteger,
  isString,
} from '../common/shape';
import { APP_STATES, AppState } from '../realtime/client-frame.parser';
import { END_REASONS, EndReason } from './live-session';
import type { SessionRecord } from './presence-store.port';

export type { SessionRecord };

/**
 * What changed in who is connected, as admins watch it: a session opened (with where it is held),
 * its app went to the background or came back, or it ended and why. Pings are not changes: they
 * would be one event per ping per session; `lastSeenAt` is read with the presence snapshot.
 */
export type PresenceChange =
  | { type: 'session.opened'; at: string; session: SessionRecord }
  | {
      type: 'session.app_state';
      at: string;
      sessionId: string;
      userId: string;
      appState: AppState;
    }
  | {
      type: 'session.ended';
      at: string;
      sessionId: string;
      userId: string;
      instanceId: string;
      endReason: EndReason;
    };

export type PresenceChangeType = PresenceChange['type'];

const isSessionRecord: Guard<SessionRecord> = isObjectOf<SessionRecord>({
  sessionId: isString,
  userId: isString,
  deviceId: isNullable(isString),
  connectedAt: isIsoInstant,
  lastSeenAt: isIsoInstant,
  pings: isSafeInteger,
  appState: isOneOf(APP_STATES),
  appStateChangedAt: isNullable(isIsoInstant),
  remoteAddress: isNullable(isString),
  userAgent: isNullable(isString),
  instanceId: isString,
});

const isOpened = isObjectOf<Extract<PresenceChange, { type: 'session.opened' }>>({
  type: isOneOf(['session.opened'] as const),
  at: isIsoInstant,
  session: isSessionRecord,
});

const isAppStateChange = isObjectOf<Extract<PresenceChange, { type: 'session.app_state' }>>({
  type: isOneOf(['session.app_state'] as const),
  at: isIsoInstant,
  sessionId: isString,
  userId: isString,
  appState: isOneOf(APP_STATES),
});

const isEnded = isObjectOf<Extract<PresenceChange, { type: 'session.ended' }>>({
  type: isOneOf(['session.ended'] as const),
  at: isIsoInstant,
  sessionId: isString,
  userId: isString,
  instanceId: isString,
  endReason: isOneOf(END_REASONS),
});

export const isPresenceChange: Guard<PresenceChange> = (value): value is PresenceChange =>
  isOpened(value) || isAppStateChange(value) || isEnded(value);

export const isPresenceChanges: Guard<PresenceChange[]> = isArrayOf(isPresenceChange);
