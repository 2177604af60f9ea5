import { parseJsonRefusingPrototypeKeys, PrototypeKeyError } from '../common/prototype-keys';

/**
 * Frames a client may send, validated strictly before any handler sees them. Pure functions:
 * the table test in client-frame.parser.spec.ts is the specification.
 */
export const APP_STATES = ['foreground', 'background'] as const;
/** What the app is doing, as it reports with `app_state`; a session starts `foreground`. */
export type AppState = (typeof APP_STATES)[number];

export type ClientFrame =
  { type: 'ping' } | { type: 'ack'; seq: number } | { type: 'app_state'; state: AppState };

export type ClientFrameType = ClientFrame['type'];
export type ClientFrameOf<T extends ClientFrameType> = Extract<ClientFrame, { type: T }>;

export const FRAME_ERROR_CODES = [
  'invalid_json',
  'binary_frame',
  'invalid_frame',
  'unknown_type',
  'rate_limited',
] as const;
/** Why a client's frame was refused, as its `error` frame says. */
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

export type ParsedFrame =
  { ok: true; frame: ClientFrame } | { ok: false; code: FrameErrorCode; message: string };

function fail(code: FrameErrorCode, message: string): ParsedFrame {
  return { ok: false, code, message };
}

export function parseClientFrame(data: Buffer | string, isBinary: boolean): ParsedFrame {
  if (isBinary)
    return fail('binary_frame', 'Binary frames are not supported; send JSON text frames');
  let value: unknown;
  try {
    value = parseJsonRefusingPrototypeKeys(data.toString());
  } catch (error) {
    if (error instanceof PrototypeKeyError) return fail('invalid_frame', error.message);
    // SyntaxError, or RangeError for nesting deep enough to exhaust the parser's stack
    return fail('invalid_json', 'Frame is not valid JSON');
  }
  return validateClientFrame(value);
}

/**
 * The shape rules alone, for a value that is already parsed (by a transport that parses JSON
 * itself); `parseClientFrame` has already refused forbidden keys at any depth.
 */
export function validateClientFrame(value: unknown): ParsedFrame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('invalid_frame', 'Frame must be a JSON object with a "type"');
  }
  const fields = value as Record<string, unknown>;
  if (typeof fields.type !== 'string') return fail('invalid_frame', '"type" must be a string');
  switch (fields.type) {
    case 'ping':
      return { ok: true, frame: { type: 'ping' } };
    case 'ack':
      if (typeof fields.seq !== 'number' || !Number.isSafeInteger(fields.seq) || fields.seq < 0) {
        return fail('invalid_frame', '"seq" must be a non-negative integer');
      }
      return { ok: true, frame: { type: 'ack', seq: fields.seq } };
    case 'app_state':
      if (!(APP_STATES as readonly unknown[]).includes(fields.state)) {
        return fail('invalid_frame', '"state" must be "foreground" or "background"');
      }
      return { ok: true, frame: { type: 'app_state', state: fields.state as AppState } };
    default:
      return fail('unknown_type', `Unknown frame type "${fields.type.slice(0, 64)}"`);
  }
}
