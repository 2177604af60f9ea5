import type { WebSocket } from 'ws';
import { FRAME_ERROR_CODES } from './client-frame.parser';

/**
 * A `notification` frame's payload as the protocol defines it: what its order, replay and ack
 * rules are about. Which events there are and what their `data` holds is the Notifications
 * module's to say (its NotificationView extends this), so the transport depends on no feature.
 */
export interface NotificationFrame {
  id: string;
  /** The user's sequence number: in order and without gaps on every socket; an `ack` names one. */
  seq: number;
  event: string;
  data: object;
  createdAt: string;
}

/** An `error` frame's codes: the client's frame was refused, or failed on the server. */
export const ERROR_FRAME_CODES = [...FRAME_ERROR_CODES, 'internal_error'] as const;
export type ErrorFrameCode = (typeof ERROR_FRAME_CODES)[number];

/**
 * Every frame the server sends, by `type` (docs/websocket-protocol.md): the one map that the
 * senders are generic over, so a frame the protocol does not define cannot be written.
 */
export interface ServerFrames {
  welcome: { sessionId: string; userId: string; heartbeatIntervalMs: number; staleAfterMs: number };
  pong: { ts: number };
  notification: NotificationFrame;
  error: { code: ErrorFrameCode; message: string };
}

export type ServerFrameType = keyof ServerFrames;

/** A frame as it goes on the wire: its `type` and that type's payload. */
export type ServerFrame<T extends ServerFrameType = ServerFrameType> = {
  [K in T]: { type: K } & ServerFrames[K];
}[T];

/**
 * A frame serialised once, to be written to any number of sockets: a notification goes to every
 * device of its user, and serialising its MealLog again for each would be most of the work.
 */
export interface EncodedFrame<T extends ServerFrameType = ServerFrameType> {
  readonly type: T;
  readonly text: string;
}

export function encodeFrame<T extends ServerFrameType>(
  type: T,
  payload: ServerFrames[T],
): EncodedFrame<T> {
  return { type, text: JSON.stringify({ type, ...payload }) };
}

/** Close codes of the contract, by meaning. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tokenExpired: 4401,
  stale: 4408,
  replaced: 4409,
} as const;

export type SendResult = 'sent' | 'closed' | 'overflow';

/**
 * Writes a frame unless the socket is not open, or its unsent output has grown past
 * `maxBufferedBytes`: a client that stopped reading is terminated rather than allowed to pile up
 * memory. Anything it missed is replayed when it reconnects.
 */
export function writeFrame(
  socket: WebSocket,
  frame: EncodedFrame,
  maxBufferedBytes: number,
): SendResult {
  if (socket.readyState !== socket.OPEN) return 'closed';
  if (socket.bufferedAmount > maxBufferedBytes) {
    socket.terminate();
    return 'overflow';
  }
  socket.send(frame.text);
  return 'sent';
}

/**
 * Closes with a code the client can act on; a peer that does not complete the closing handshake
 * within `graceMs` (gone, or not reading) is terminated so its socket is not held open.
 */
export function closeSocket(
  socket: WebSocket,
  code: number,
  reason: string,
  graceMs = 1_000,
): void {
  if (socket.readyState === socket.CLOSED) return;
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), graceMs).unref();
}
