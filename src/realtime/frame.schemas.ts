import {
  constant,
  extendObject,
  integer,
  JsonSchema,
  objectSchema,
  oneOf,
  Schema,
  text,
} from '../common/json-schema';
import { APP_STATES, ClientFrameOf, ClientFrameType } from './client-frame.parser';
import {
  ERROR_FRAME_CODES,
  NotificationFrame,
  ServerFrame,
  ServerFrames,
  ServerFrameType,
} from './server-frames';

/**
 * The frames' JSON Schemas, each typed against the frame map the code sends and parses through
 * (ServerFrames, ClientFrame): the AsyncAPI document is made of these, and a frame type that
 * changes without its schema does not compile.
 */
function typed<K extends string>(type: K): Schema<{ type: K }> {
  return objectSchema<{ type: K }>({ type: constant(type) });
}

function frame<K extends string, P extends object>(
  type: K,
  payload: Schema<P>,
  description: string,
): Schema<{ type: K } & P> {
  return extendObject(typed(type), payload, { description });
}

const epochMs = integer({ minimum: 0, description: 'Milliseconds since the Unix epoch' });

export type ServerFrameSchemas<N extends NotificationFrame> = {
  [K in Exclude<ServerFrameType, 'notification'>]: Schema<ServerFrame<K>>;
} & { notification: Schema<{ type: 'notification' } & N> };

/**
 * The server's frames; what a notification carries (its events and `data`) is the feature's to
 * say, so its schema comes in from the module that owns it.
 */
export function serverFrameSchemas<N extends NotificationFrame>(
  notification: Schema<N>,
): ServerFrameSchemas<N> {
  return {
    welcome: frame(
      'welcome',
      objectSchema<ServerFrames['welcome']>({
        sessionId: text({ format: 'uuid' }),
        userId: text({ minLength: 1, maxLength: 128, description: "The token's subject" }),
        heartbeatIntervalMs: integer({
          minimum: 1,
          description: 'How often the server sends a protocol ping',
        }),
        staleAfterMs: integer({
          minimum: 1,
          description: 'A session with no inbound frame for this long is swept (4408)',
        }),
      }),
      'The first frame of every session: it is registered and the user is online.',
    ),
    pong: frame(
      'pong',
      objectSchema<ServerFrames['pong']>({ ts: epochMs }),
      'The answer to a JSON ping.',
    ),
    notification: frame(
      'notification',
      notification,
      "One of the user's notifications, in seq order with no gaps on this socket.",
    ),
    error: frame(
      'error',
      objectSchema<ServerFrames['error']>({
        code: oneOf(ERROR_FRAME_CODES),
        message: text({ description: 'For people, not for code: match on `code`' }),
      }),
      'The last client frame was refused (or failed on the server); the socket stays open.',
    ),
  };
}

export const CLIENT_FRAME_SCHEMAS: { [K in ClientFrameType]: Schema<ClientFrameOf<K>> } = {
  ping: frame(
    'ping',
    objectSchema<Record<never, never>>({}),
    'A JSON ping, for clients that cannot send protocol pings: answered with `pong`.',
  ),
  ack: frame(
    'ack',
    objectSchema<Omit<ClientFrameOf<'ack'>, 'type'>>({
      seq: integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    }),
    'Every notification of the user with seq <= `seq` is acknowledged (never beyond what this socket was sent).',
  ),
  app_state: frame(
    'app_state',
    objectSchema<Omit<ClientFrameOf<'app_state'>, 'type'>>({ state: oneOf(APP_STATES) }),
    'What the app is doing; a session starts `foreground`. No answer.',
  ),
};

/** A frame schema's `type`, for naming it in a document. */
export function frameTypeOf(schema: JsonSchema): string {
  const { properties } = schema as { properties: { type: { const: string } } };
  return properties.type.const;
}
