import { duration } from '../common/duration';
import type { NotificationDeliveryRecord, PushAttemptView } from './notification.view';

/**
 * How long after it was due something is expected to have happened (a write, a push, its
 * record): the delivery ledger writes every 250 ms, a push due at once goes within milliseconds,
 * and the catch-up takes what is older than 2 s. Younger than that, a notification is still on
 * its way rather than missing.
 */
export const VERDICT_GRACE_MS = 5_000;

export type VerdictInput = Pick<
  NotificationDeliveryRecord,
  | 'createdAt'
  | 'sessions'
  | 'ackedAt'
  | 'onlineSessionsAtCreation'
  | 'foregroundSessionsAtCreation'
  | 'pushReason'
  | 'push'
>;

export interface VerdictContext {
  now: Date;
  /** `PUSH_ACK_DEADLINE_MS`: when a push planned for `ack_deadline` falls due. */
  ackDeadlineMs: number;
}

/** One part of the sentence; those with a time are told in the order they happened. */
interface Clause {
  at: number | null;
  text: string;
}

/**
 * A notification's delivery record in one line, for the admin's "why did this user not see
 * it?": what reached the user and how fast (socket, push, ack), in the order it happened, and
 * what did not and why. Durations are counted from the notification's creation.
 */
export function deliveryVerdict(record: VerdictInput, context: VerdictContext): string {
  const createdAt = Date.parse(record.createdAt);
  const age = context.now.getTime() - createdAt;
  const expectedBy =
    VERDICT_GRACE_MS + (record.pushReason === 'ack_deadline' ? context.ackDeadlineMs : 0);
  const recent = age < expectedBy;
  const ackedAt = record.ackedAt === null ? null : Date.parse(record.ackedAt);
  const socket = socketClause(record, createdAt);
  const pushes = pushClauses(record, ackedAt);
  const pushed = record.push.some((attempt) => attempt.status === 'sent');

  if (socket === null && !pushed && ackedAt === null) {
    if (pushes.length > 0) return `not delivered: ${noSession(record)}, ${joined(pushes)}`;
    if (recent) return `still waiting (created ${duration(age)} ago)`;
    return record.pushReason === null
      ? `not delivered: ${noSession(record)} and push is not configured`
      : `not delivered: ${noSession(record)} and no push token`;
  }

  const clauses = [...pushes];
  if (socket !== null) clauses.push(socket);
  if (ackedAt !== null)
    clauses.push({ at: ackedAt, text: `acknowledged after ${duration(ackedAt - createdAt)}` });
  else if (socket !== null)
    clauses.push({ at: null, text: recent ? 'waiting for an ack' : 'not acknowledged' });
  if (record.pushReason !== null && record.push.length === 0 && !recent) {
    // A due push that left no attempt found no device to send to. One waiting for an ack that
    // came was cancelled: nothing to say.
    if (record.pushReason === 'no_foreground_session' || ackedAt === null)
      clauses.push({ at: null, text: 'not pushed: no push token' });
  }
  return joined(clauses);
}

/** The first write to a session, and how it came about. */
function socketClause(record: VerdictInput, createdAt: number): Clause | null {
  if (record.sessions.length === 0) return null;
  const first = record.sessions.reduce((a, b) => (Date.parse(b.at) < Date.parse(a.at) ? b : a));
  const at = Date.parse(first.at);
  const after = duration(at - createdAt);
  switch (first.via) {
    case 'live':
      return { at, text: `delivered over the socket in ${after}` };
    case 'replay':
      return { at, text: `delivered on reconnect after ${after}` };
    case 'gap':
      return { at, text: `delivered over the socket after ${after}, read from the outbox` };
    case 'catch_up':
      return { at, text: `delivered by the catch-up after ${after}` };
  }
}

/**
 * The push, per device by its latest attempt: "pushed: <why>" once for the devices APNs took,
 * and a clause for each device it did not.
 */
function pushClauses(record: VerdictInput, ackedAt: number | null): Clause[] {
  if (record.push.length === 0) return [];
  const latest = new Map<string, PushAttemptView>();
  for (const attempt of record.push) latest.set(attempt.deviceId, attempt);
  const named = latest.size > 1;
  const clauses: Clause[] = [];
  const sent = record.push.find((attempt) => attempt.status === 'sent');
  if (sent !== undefined)
    clauses.push({ at: Date.parse(sent.at), text: `pushed: ${whyPushed(record)}` });
  for (const attempt of latest.values()) {
    if (attempt.status === 'sent') continue;
    const push = named ? `push to ${attempt.deviceId}` : 'push';
    const reason = attempt.reason === null ? '' : ` (${attempt.reason})`;
    const at = Date.parse(attempt.at);
    switch (attempt.status) {
      case 'rejected':
        clauses.push({ at, text: `${push} refused${reason}, token removed` });
        break;
      case 'failed':
        clauses.push({ at, text: `${push} failed${reason}` });
        break;
      case 'retrying':
        // An ack after the attempt cancels the retries of a push that waited for one.
        clauses.push({
          at,
          text:
            record.pushReason === 'ack_deadline' && ackedAt !== null && ackedAt >= at
              ? `${push} not taken${reason}, retries cancelled by the ack`
              : `${push} retrying${reason}`,
        });
        break;
    }
  }
  return clauses;
}

function whyPushed(record: VerdictInput): string {
  switch (record.pushReason) {
    case 'no_foreground_session':
      return record.onlineSessionsAtCreation > 0 ? 'app in background' : 'no session open';
    case 'ack_deadline':
      return 'no ack within the deadline';
    case null:
      return 'no reason recorded';
  }
}

function noSession(record: VerdictInput): string {
  return record.onlineSessionsAtCreation > 0 ? 'not written to any session' : 'no session';
}

/** The clauses with a time in the order they happened, then the others. */
function joined(clauses: Clause[]): string {
  const timed = clauses.filter((c) => c.at !== null).sort((a, b) => a.at! - b.at!);
  return [...timed, ...clauses.filter((c) => c.at === null)].map((c) => c.text).join(', ');
}
