import type { WebSocket } from 'ws';
import type { FrameErrorCode } from './client-frame.parser';

/** Frames the server sends; see docs/websocket-protocol.md. */
export type ServerFrame =
  | {
      type: 'welcome';
      sessionId: string;
      userId: string;
      heartbeatIntervalMs: number;
      staleAfterMs: number;
    }
  | { type: 'pong'; ts: number }
  | { type: 'error'; code: FrameErrorCode | 'internal_error'; message: string }
  | {
      type: 'notification';
      id: string;
      seq: number;
      event: string;
      data: unknown;
      createdAt: string;
    };

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
 * Writes an already serialised frame unless the socket is not open, or its unsent output has
 * grown past `maxBufferedBytes`: a client that stopped reading is terminated rather than allowed
 * to pile up memory. Anything it missed is replayed when it reconnects.
 */
export function sendText(socket: WebSocket, text: string, maxBufferedBytes: number): SendResult {
  if (socket.readyState !== socket.OPEN) return 'closed';
  if (socket.bufferedAmount > maxBufferedBytes) {
    socket.terminate();
    return 'overflow';
  }
  socket.send(text);
  return 'sent';
}

export function sendFrame(
  socket: WebSocket,
  frame: ServerFrame,
  maxBufferedBytes: number,
): SendResult {
  return sendText(socket, JSON.stringify(frame), maxBufferedBytes);
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
