import type { JsonSchema } from '../common/json-schema';
import { NOTIFICATION_SCHEMA } from '../notifications/notification.schema';
import { DEVICE_ID, SEQ } from '../presence/upgrade.authorizer';
import type { ClientFrameOf, ClientFrameType } from '../realtime/client-frame.parser';
import { CLIENT_FRAME_SCHEMAS, serverFrameSchemas } from '../realtime/frame.schemas';
import type { ServerFrame, ServerFrameType } from '../realtime/server-frames';

/**
 * The WebSocket protocol as an AsyncAPI 3 document, served at /docs/asyncapi.json and written to
 * dist/asyncapi.json by `npm run contracts`. Its frames are the typed schemas beside the frame
 * maps; what AsyncAPI has no field for (close codes, refused upgrades) is in the channel's
 * description and in `x-` extensions, the same table for people and for tools.
 *
 * The document describes the server: it receives the client's frames and sends its own.
 */
export const ASYNCAPI_VERSION = '3.0.0';

/** Close codes of the contract, and what the app should do on each. */
export const CLOSE_CODES = [
  { code: 1000, meaning: 'normal close', action: 'nothing' },
  {
    code: 1001,
    meaning: 'the server is shutting down (deploy)',
    action: 'reconnect with back-off; unacknowledged notifications are replayed',
  },
  {
    code: 1002,
    meaning: 'a frame that breaks the WebSocket protocol (1007: text that is not UTF-8)',
    action: 'fix the client',
  },
  {
    code: 1008,
    meaning: 'kept sending while rate-limited, or a message in more than 1,024 fragments',
    action: 'fix the client; reconnect with back-off',
  },
  {
    code: 1009,
    meaning: 'a frame larger than WS_MAX_PAYLOAD_BYTES (64 KiB by default)',
    action: 'do not send it again',
  },
  {
    code: 4401,
    meaning: 'the access token expired during the session',
    action: 'refresh the token, reconnect at once',
  },
  {
    code: 4408,
    meaning: 'no inbound frame for staleAfterMs: swept as stale',
    action: 'reconnect; check that pings are really sent',
  },
  {
    code: 4409,
    meaning: 'replaced by a newer session of the same user and deviceId',
    action: 'do not reconnect from this socket: the newer one is yours',
  },
] as const;

/** Answers to an upgrade that is refused: plain HTTP with the REST error body. */
export const UPGRADE_REFUSALS = [
  { status: 400, meaning: 'malformed deviceId or after', action: 'fix the request' },
  {
    status: 401,
    meaning: 'token missing, malformed, expired or badly signed',
    action: 'refresh the token, then reconnect',
  },
  { status: 403, meaning: 'an Origin header that is not allowed', action: 'do not retry' },
  { status: 404, meaning: 'a path other than /ws', action: 'use /ws' },
  {
    status: 429,
    meaning:
      'the user holds WS_MAX_SESSIONS_PER_USER sessions, or too many upgrades from this address',
    action: 'back off; close unused sockets',
  },
  {
    status: 500,
    meaning: 'the server could not decide the upgrade',
    action: 'reconnect with back-off',
  },
  {
    status: 503,
    meaning: 'shutting down, or no decision within 5 s',
    action: 'reconnect with back-off; another instance will answer',
  },
] as const;

const NOTIFICATION_EXAMPLE = {
  type: 'notification',
  id: '6f1c0f0e-5d7a-4a51-9a2e-0b8d8f3f1c11',
  seq: 42,
  event: 'meal_log.completed',
  createdAt: '2026-12-05T08:15:02.187Z',
  data: {
    id: '0d8e5b1a-2b8e-4f4e-8f6e-1f6d1f6b2a10',
    status: 'completed',
    text: '1 small apple',
    mealType: 'snack',
    loggedAt: '2026-12-05T08:15:02.000Z',
    createdAt: '2026-12-05T08:15:02.031Z',
    completedAt: '2026-12-05T08:15:02.180Z',
    items: [
      {
        name: 'apple',
        quantity: 1,
        unit: 'small',
        grams: 149,
        calories: 77,
        proteinG: 0.4,
        carbsG: 20.6,
        fatG: 0.2,
      },
    ],
    totals: { calories: 77, proteinG: 0.4, carbsG: 20.6, fatG: 0.2 },
    unrecognized: [],
    error: null,
  },
} satisfies ServerFrame<'notification'>;

/** One example of every frame, checked against its schema by the tests. */
export const SERVER_FRAME_EXAMPLES: { [K in ServerFrameType]: ServerFrame<K> } = {
  welcome: {
    type: 'welcome',
    sessionId: '3b0f2c7e-1f0a-4a8e-9d6b-5e2f0c1a7b44',
    userId: 'user-1',
    heartbeatIntervalMs: 30_000,
    staleAfterMs: 90_000,
  },
  pong: { type: 'pong', ts: 1_796_458_502_187 },
  notification: NOTIFICATION_EXAMPLE,
  error: { type: 'error', code: 'unknown_type', message: 'Unknown frame type "pnig"' },
};

export const CLIENT_FRAME_EXAMPLES: { [K in ClientFrameType]: ClientFrameOf<K> } = {
  ping: { type: 'ping' },
  ack: { type: 'ack', seq: 42 },
  app_state: { type: 'app_state', state: 'background' },
};

/** The frame schemas the document names, by component name (`WelcomeFrame`, `AckFrame`, …). */
export function frameSchemaComponents(): Record<string, JsonSchema> {
  const frames: [string, JsonSchema][] = [
    ...Object.entries(serverFrameSchemas(NOTIFICATION_SCHEMA)),
    ...Object.entries(CLIENT_FRAME_SCHEMAS),
  ];
  return Object.fromEntries(frames.map(([type, schema]) => [componentName(type), schema]));
}

/** `app_state` → `AppStateFrame`. */
export function componentName(type: string): string {
  return `${type.replace(/(^|_)([a-z])/g, (_, _sep: string, letter: string) => letter.toUpperCase())}Frame`;
}

function table(
  header: string,
  rows: readonly { code?: number; status?: number; meaning: string; action: string }[],
): string {
  return [
    `| ${header} | meaning | what the app should do |`,
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.code ?? row.status} | ${row.meaning} | ${row.action} |`),
  ].join('\n');
}

const CHANNEL_DESCRIPTION = [
  'One socket per device. The first frame is `welcome`; then, before any new notification, the ' +
    "replay of the user's unacknowledged notifications (or, with `after`, of every one with a " +
    'larger seq), in seq order. Every inbound frame, protocol pings and pongs included, ' +
    "refreshes the session's presence. A bad frame gets an `error` frame and changes nothing.",
  '',
  '**Refused upgrades** (plain HTTP, body `{"statusCode", "error", "message"}`):',
  '',
  table('status', UPGRADE_REFUSALS),
  '',
  '**Close codes**:',
  '',
  table('code', CLOSE_CODES),
].join('\n');

function message(type: string, summary: string, example: object): object {
  return {
    name: type,
    title: componentName(type).replace(/Frame$/, ''),
    summary,
    contentType: 'application/json',
    payload: { $ref: `#/components/schemas/${componentName(type)}` },
    examples: [{ name: type, payload: example }],
  };
}

const SUMMARIES: Record<ServerFrameType | ClientFrameType, string> = {
  welcome: 'The session is registered; first frame of every session',
  pong: 'The answer to a JSON ping',
  notification: 'A meal-log result; data is the MealLog',
  error: 'The last client frame was refused; the socket stays open',
  ping: 'A JSON ping (protocol pings work too); refreshes presence',
  ack: 'Acknowledges every notification of the user up to seq',
  app_state: 'The app went to the background or came back',
};

export function buildAsyncApiDocument(): Record<string, unknown> {
  const ref = (path: string) => ({ $ref: path });
  const channel = ref('#/channels/ws');
  const messages = {
    ...Object.fromEntries(
      Object.entries(SERVER_FRAME_EXAMPLES).map(([type, example]) => [
        type,
        message(type, SUMMARIES[type as ServerFrameType], example),
      ]),
    ),
    ...Object.fromEntries(
      Object.entries(CLIENT_FRAME_EXAMPLES).map(([type, example]) => [
        type,
        message(type, SUMMARIES[type as ClientFrameType], example),
      ]),
    ),
  };
  const channelMessage = (type: string) => ref(`#/channels/ws/messages/${type}`);
  const operation = (action: 'send' | 'receive', type: string, extra: object = {}) => ({
    action,
    channel,
    summary: SUMMARIES[type as ServerFrameType | ClientFrameType],
    messages: [channelMessage(type)],
    ...extra,
  });
  return {
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: 'MealPulse WebSocket protocol',
      version: '1',
      description:
        'Real-time meal-log results and presence over one WebSocket per device. The REST API ' +
        'is described by the OpenAPI document at /docs-json. Operations are seen from the ' +
        "server: it receives the client's frames and sends its own.",
    },
    defaultContentType: 'application/json',
    servers: {
      mealpulse: {
        host: '{host}',
        protocol: 'ws',
        description: 'The service; wss behind a TLS-terminating proxy',
        variables: { host: { default: 'localhost:3000', description: 'host:port of the service' } },
        security: [
          ref('#/components/securitySchemes/bearer'),
          ref('#/components/securitySchemes/accessTokenQuery'),
        ],
      },
    },
    channels: {
      ws: {
        address: '/ws',
        title: 'The session',
        description: CHANNEL_DESCRIPTION,
        messages: Object.fromEntries(
          Object.keys(messages).map((type) => [type, ref(`#/components/messages/${type}`)]),
        ),
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              additionalProperties: false,
              properties: {
                access_token: {
                  type: 'string',
                  description: 'The access token, for clients that cannot set the header',
                },
                deviceId: {
                  type: 'string',
                  pattern: DEVICE_ID.source,
                  description:
                    'Stable per installation; a new session of the same device replaces the old (4409)',
                },
                after: {
                  type: 'string',
                  pattern: SEQ.source,
                  description: 'A seq: replay every notification after it, acknowledged or not',
                },
              },
            },
            headers: {
              type: 'object',
              properties: {
                Authorization: { type: 'string', pattern: '^Bearer .+$' },
              },
            },
            bindingVersion: '0.1.0',
          },
        },
        'x-close-codes': CLOSE_CODES,
        'x-upgrade-refusals': UPGRADE_REFUSALS,
      },
    },
    operations: {
      receivePing: operation('receive', 'ping', {
        reply: { channel, messages: [channelMessage('pong')] },
      }),
      receiveAck: operation('receive', 'ack'),
      receiveAppState: operation('receive', 'app_state'),
      sendWelcome: operation('send', 'welcome'),
      sendPong: operation('send', 'pong'),
      sendNotification: operation('send', 'notification'),
      sendError: operation('send', 'error'),
    },
    components: {
      schemas: frameSchemaComponents(),
      messages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The access token in the upgrade request: Authorization: Bearer <token>',
        },
        accessTokenQuery: {
          type: 'httpApiKey',
          in: 'query',
          name: 'access_token',
          description: 'The same token as ?access_token=, for clients that cannot set headers',
        },
      },
    },
  };
}
