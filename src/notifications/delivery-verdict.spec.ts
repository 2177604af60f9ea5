import { deliveryVerdict, VerdictInput } from './delivery-verdict';
import type { DeliveryVia, PushAttemptStatus } from './notification.view';

const CREATED = Date.parse('2026-12-04T12:00:00.000Z');
const ACK_DEADLINE_MS = 4_000;

/** An instant `ms` after the notification's creation. */
const at = (ms: number) => new Date(CREATED + ms).toISOString();
const session = (ms: number, via: DeliveryVia, deviceId = 'iphone') => ({
  sessionId: `session-${deviceId}`,
  deviceId,
  at: at(ms),
  via,
  attempts: 1,
});
const push = (
  ms: number,
  status: PushAttemptStatus,
  reason: string | null = null,
  deviceId = 'iphone',
) => ({ deviceId, at: at(ms), status, reason });

/** A user with one foreground session and APNs configured, seen a minute after creation. */
const base: VerdictInput = {
  createdAt: at(0),
  sessions: [],
  ackedAt: null,
  onlineSessionsAtCreation: 1,
  foregroundSessionsAtCreation: 1,
  pushReason: 'ack_deadline',
  push: [],
};

describe('deliveryVerdict', () => {
  it.each<[string, Partial<VerdictInput>, number, string]>([
    [
      'live and acknowledged',
      { sessions: [session(43, 'live')], ackedAt: at(1_200) },
      60_000,
      'delivered over the socket in 43 ms, acknowledged after 1.2 s',
    ],
    [
      'the first of several sessions counts',
      {
        sessions: [session(50, 'live', 'ipad'), session(12, 'live', 'iphone')],
        ackedAt: at(300),
      },
      60_000,
      'delivered over the socket in 12 ms, acknowledged after 300 ms',
    ],
    [
      'live, the ack deadline not passed yet',
      { sessions: [session(43, 'live')] },
      1_000,
      'delivered over the socket in 43 ms, waiting for an ack',
    ],
    [
      'live, never acknowledged, pushed after the deadline',
      { sessions: [session(43, 'live')], push: [push(4_100, 'sent')] },
      60_000,
      'delivered over the socket in 43 ms, pushed: no ack within the deadline, not acknowledged',
    ],
    [
      'live, never acknowledged, no device to push to',
      { sessions: [session(43, 'live')] },
      60_000,
      'delivered over the socket in 43 ms, not acknowledged, not pushed: no push token',
    ],
    [
      'live, never acknowledged, APNs not configured',
      { sessions: [session(43, 'live')], pushReason: null },
      60_000,
      'delivered over the socket in 43 ms, not acknowledged',
    ],
    [
      'replayed on reconnect after a push to the device of a user with no session',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        push: [push(80, 'sent')],
        sessions: [session(300_000, 'replay')],
        ackedAt: at(301_000),
      },
      3_600_000,
      'pushed: no session open, delivered on reconnect after 5 min, acknowledged after 5 min',
    ],
    [
      'replayed on reconnect, APNs not configured',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: null,
        sessions: [session(7_200_000, 'replay')],
        ackedAt: at(7_201_000),
      },
      86_400_000,
      'delivered on reconnect after 2 h, acknowledged after 2 h',
    ],
    [
      'the app in the background: written to its socket and pushed',
      {
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        sessions: [session(20, 'live')],
        push: [push(150, 'sent')],
        ackedAt: at(90),
      },
      60_000,
      'delivered over the socket in 20 ms, acknowledged after 90 ms, pushed: app in background',
    ],
    [
      'a gap read from the outbox',
      { sessions: [session(1_500, 'gap')], ackedAt: at(1_600) },
      60_000,
      'delivered over the socket after 1.5 s, read from the outbox, acknowledged after 1.6 s',
    ],
    [
      'found by the catch-up',
      { pushReason: null, sessions: [session(12_000, 'catch_up')], ackedAt: at(12_100) },
      60_000,
      'delivered by the catch-up after 12 s, acknowledged after 12 s',
    ],
    [
      'acknowledged before its delivery was recorded',
      { ackedAt: at(700) },
      1_000,
      'acknowledged after 700 ms',
    ],
    [
      'no session and no push token',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
      },
      60_000,
      'not delivered: no session and no push token',
    ],
    [
      'no session and APNs not configured',
      { onlineSessionsAtCreation: 0, foregroundSessionsAtCreation: 0, pushReason: null },
      60_000,
      'not delivered: no session and push is not configured',
    ],
    [
      'sessions online at creation that never took it, and no push token',
      {},
      60_000,
      'not delivered: not written to any session and no push token',
    ],
    [
      'no session, the token refused',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        push: [push(90, 'rejected', 'Unregistered')],
      },
      60_000,
      'not delivered: no session, push refused (Unregistered), token removed',
    ],
    [
      'no session, the push given up',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        push: [push(90, 'retrying', 'TooManyRequests'), push(1_200, 'failed', 'TooManyRequests')],
      },
      60_000,
      'not delivered: no session, push failed (TooManyRequests)',
    ],
    [
      'no session, the push being retried',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        push: [push(90, 'retrying', 'InternalServerError')],
      },
      500,
      'not delivered: no session, push retrying (InternalServerError)',
    ],
    [
      'pushed to one device, the other refused',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
        push: [push(90, 'sent', null, 'phone'), push(95, 'rejected', 'BadDeviceToken', 'tablet')],
      },
      60_000,
      'pushed: no session open, push to tablet refused (BadDeviceToken), token removed',
    ],
    [
      'a deadline push APNs could not take, its retries cancelled by a late ack',
      {
        sessions: [session(43, 'live')],
        push: [push(4_100, 'retrying', 'ServiceUnavailable')],
        ackedAt: at(5_000),
      },
      60_000,
      'delivered over the socket in 43 ms, push not taken (ServiceUnavailable), retries cancelled by the ack, acknowledged after 5 s',
    ],
    [
      'still waiting: just created',
      {
        onlineSessionsAtCreation: 0,
        foregroundSessionsAtCreation: 0,
        pushReason: 'no_foreground_session',
      },
      1_200,
      'still waiting (created 1.2 s ago)',
    ],
    ['still waiting: a deadline push not due yet', {}, 6_000, 'still waiting (created 6 s ago)'],
  ])('%s', (_name, fields, nowMs, verdict) => {
    expect(
      deliveryVerdict(
        { ...base, ...fields },
        { now: new Date(CREATED + nowMs), ackDeadlineMs: ACK_DEADLINE_MS },
      ),
    ).toBe(verdict);
  });
});
