import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A connection that has sent nothing gets this many headers deadlines from the moment Node
 * accepted it before it is answered 408 (30 s with HEADERS_TIMEOUT_MS at 10 s).
 */
export const SILENT_CONNECTION_DEADLINES = 3;

/** The status Node itself answers for each parser or timeout error (`socketOnError`). */
export function clientErrorStatus(code: string | undefined): 400 | 408 | 413 | 431 {
  return (code !== undefined && STATUS_BY_CODE.get(code)) || 400;
}

const STATUS_BY_CODE = new Map<string, 408 | 413 | 431>([
  ['HPE_HEADER_OVERFLOW', 431],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
  ['ERR_HTTP_REQUEST_TIMEOUT', 408],
]);

/**
 * Whether a request timeout is the peer's doing. Node starts a connection's clock when it
 * accepts the socket and starts it again at the first byte of each request, so a connection
 * that timed out with nothing read has not been slow to send: its request still sits in the
 * kernel behind an event loop that was busy since the accept, or its first segment was dropped
 * by a full accept queue and waits on the client's doubling TCP retransmission (resent 0.2, 0.6,
 * 1.4, 3, 6.2, 12.6 s … after the first try, while the server may have taken the connection in
 * from its handshake alone at any point between).
 */
export function isPeersDelay(code: string | undefined, bytesRead: number): boolean {
  return code !== 'ERR_HTTP_REQUEST_TIMEOUT' || bytesRead > 0;
}

/**
 * Answers a client's protocol error as Node does (400, 408, 413, 431, then close), except that a
 * request timeout on a connection that has sent nothing yet is given until
 * SILENT_CONNECTION_DEADLINES headers deadlines after its accept: a reconnect storm must not
 * lose upgrades to the server's own queueing, and a connection that never sends is still closed.
 * Once its first byte arrives Node's own deadline applies again, counted from that byte.
 * The server's `clientError` handler (Fastify's `clientErrorHandler`), given its headersTimeout.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  stream: Duplex,
  headersTimeoutMs: number,
): void {
  const socket = stream as Socket;
  if (isPeersDelay(error.code, socket.bytesRead)) return answer(socket, error);
  // Node's check runs every connectionsCheckingInterval, so the headers deadline has passed
  // since the accept, by up to one interval: waiting the rest from now errs on the long side.
  const rest = (SILENT_CONNECTION_DEADLINES - 1) * headersTimeoutMs;
  const timer = setTimeout(() => {
    if (socket.bytesRead === 0) answer(socket, error);
  }, rest).unref();
  socket.once('close', () => clearTimeout(timer));
}

function answer(socket: Socket, error: NodeJS.ErrnoException): void {
  // As Node: no canned answer once a response to this connection has begun.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = clientErrorStatus(error.code);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy(error);
}
