import { WebSocket } from 'ws';

/**
 * The frames of docs/websocket-protocol.md as the references speak them: the references keep
 * their own copy of the wire, so that MealPulse's code can change without breaking the bench,
 * and the load clients drive every server with the same frames.
 */
export type ReferenceServerFrame =
  | {
      type: 'welcome';
      sessionId: string;
      userId: string;
      heartbeatIntervalMs: number;
      staleAfterMs: number;
    }
  | { type: 'pong'; ts: number }
  | { type: 'error'; code: string; message: string }
  | {
      type: 'notification';
      id: string;
      seq: number;
      event: 'meal_log.completed';
      /** The MealLog, as MealPulse's REST API shows it. */
      data: Record<string, unknown> & { id: string; completedAt: string };
      createdAt: string;
    };

/** A client frame's `type` once it passed the protocol's rules, or the error frame to answer. */
export type ReadFrame =
  { type: 'ping' | 'ack' | 'app_state' } | (ReferenceServerFrame & { type: 'error' });

const refused = (code: string, message: string): ReadFrame => ({ type: 'error', code, message });

/** The protocol's field rules per client frame type; null when the frame is well formed. */
const FIELD_RULES = new Map<string, (frame: Record<string, unknown>) => string | null>([
  ['ping', () => null],
  [
    'ack',
    ({ seq }) =>
      Number.isSafeInteger(seq) && (seq as number) >= 0 ? null : 'seq: a non-negative integer',
  ],
  [
    'app_state',
    ({ state }) =>
      state === 'foreground' || state === 'background' ? null : 'state: foreground or background',
  ],
]);

/** `__proto__`, `constructor` and `prototype` are refused at any depth, as MealPulse does. */
class PrototypeKey extends Error {}
function refusePrototypeKey(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new PrototypeKey();
  return value;
}

/** Applies the protocol's rules to a frame already parsed from JSON (Socket.IO parses its own). */
export function readParsedFrame(value: unknown): ReadFrame {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return refused('invalid_frame', 'not an object');
  const frame = value as Record<string, unknown>;
  if (typeof frame.type !== 'string') return refused('invalid_frame', 'no string type');
  const rule = FIELD_RULES.get(frame.type);
  if (!rule) return refused('unknown_type', 'unknown type');
  const problem = rule(frame);
  return problem === null
    ? { type: frame.type as 'ping' | 'ack' | 'app_state' }
    : refused('invalid_frame', problem);
}

/** Reads one WebSocket message: a JSON text frame, with the same refusals as MealPulse's. */
export function readFrame(data: Buffer, isBinary: boolean): ReadFrame {
  if (isBinary) return refused('binary_frame', 'text frames only');
  let value: unknown;
  try {
    value = JSON.parse(data.toString(), refusePrototypeKey);
  } catch (error) {
    return error instanceof PrototypeKey
      ? refused('invalid_frame', 'prototype key')
      : refused('invalid_json', 'not JSON');
  }
  return readParsedFrame(value);
}

/**
 * Sends serialised text to an open socket, and terminates one whose unsent output passed
 * `maxBufferedBytes` (a client that stopped reading), as MealPulse's sender does.
 */
export function sendText(socket: WebSocket, text: string, maxBufferedBytes: number): void {
  if (socket.readyState !== WebSocket.OPEN) return;
  if (socket.bufferedAmount > maxBufferedBytes) socket.terminate();
  else socket.send(text);
}
