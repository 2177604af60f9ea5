import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  buildAsyncApiDocument,
  CLIENT_FRAME_EXAMPLES,
  SERVER_FRAME_EXAMPLES,
} from '../src/gateway/asyncapi.document';
import { generateOpenApiDocument } from '../tools/openapi/openapi-document';
import { checkFrame, frameProblem, takeFrameViolations } from './support/asyncapi-frames';
import { toJsonSchema } from './support/openapi-validator';
import { startTestApp, TestApp } from './support/test-app';
import { tokenFor } from './support/tokens';
import { WsClient } from './support/ws-client';

describe('AsyncAPI document of /ws', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('is served at /docs/asyncapi.json, as built, and parses as AsyncAPI 3 without errors', async () => {
    const answer = await fetch(`${app.baseUrl}/docs/asyncapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await answer.json()) as Record<string, unknown>;
    expect(served).toEqual(JSON.parse(JSON.stringify(buildAsyncApiDocument())));
    expect(served.asyncapi).toMatch(/^3\./);
    const diagnostics = await new Parser().validate(served as never);
    expect(
      diagnostics.filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error)),
    ).toEqual([]);
  });

  it('describes every frame of the protocol, each with an example that obeys its schema', () => {
    const { components, channels } = buildAsyncApiDocument() as {
      components: { messages: Record<string, unknown> };
      channels: { ws: { messages: Record<string, unknown> } };
    };
    const types = [...Object.keys(SERVER_FRAME_EXAMPLES), ...Object.keys(CLIENT_FRAME_EXAMPLES)];
    expect(Object.keys(components.messages).sort()).toEqual([...types].sort());
    expect(Object.keys(channels.ws.messages).sort()).toEqual([...types].sort());
    for (const example of Object.values(SERVER_FRAME_EXAMPLES))
      expect(frameProblem('server', JSON.stringify(example))).toBeNull();
    for (const example of Object.values(CLIENT_FRAME_EXAMPLES))
      expect(frameProblem('client', JSON.stringify(example))).toBeNull();
  });

  it('holds the notification’s MealLog to the same rules as the OpenAPI document’s', async () => {
    const openapi = await generateOpenApiDocument();
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: toJsonSchema(openapi.components) });
    const restMealLog = ajv.compile({ $ref: 'openapi.json#/components/schemas/MealLogResponse' });
    const { data } = SERVER_FRAME_EXAMPLES.notification;
    const processing = {
      ...data,
      status: 'processing',
      mealType: null,
      completedAt: null,
      items: [],
      totals: null,
    };
    const failed = { ...processing, status: 'failed', error: 'no food recognised' };
    for (const mealLog of [data, processing, failed]) {
      expect(restMealLog(mealLog)).toBe(true);
      expect(frameProblem('server', notificationWith(mealLog))).toBeNull();
    }
    // A field one document has and the other lacks fails both ways.
    const extra = { ...data, calories: 77 };
    expect(restMealLog(extra)).toBe(false);
    expect(frameProblem('server', notificationWith(extra))).not.toBeNull();
  });

  it.each([
    ['an unknown type', { type: 'hello' }],
    ['a field the document does not have', { ...SERVER_FRAME_EXAMPLES.pong, extra: 1 }],
    ['a missing field', { type: 'welcome', sessionId: SERVER_FRAME_EXAMPLES.welcome.sessionId }],
    ['a wrong type', { ...SERVER_FRAME_EXAMPLES.pong, ts: '1' }],
    ['null where not nullable', notificationFrameWith({ text: null })],
    ['an unknown error code', { ...SERVER_FRAME_EXAMPLES.error, code: 'oops' }],
    ['a client frame sent by the server', { type: 'ack', seq: 1 }],
  ])('finds a server frame with %s in breach', (_case, frame) => {
    expect(frameProblem('server', JSON.stringify(frame))).not.toBeNull();
  });

  it('records a breach for the running test, which the setup fails it on', () => {
    checkFrame('client', JSON.stringify({ type: 'ack', seq: -1 }));
    expect(takeFrameViolations()).toEqual([
      expect.stringContaining('client frame breaks the AsyncAPI document'),
    ]);
    expect(takeFrameViolations()).toEqual([]);
  });

  it('is obeyed by a session’s real frames: welcome, pong, error and a notification', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'asyncapi-user' });
    try {
      client.send({ type: 'ping' });
      await client.nextFrame((frame) => frame.type === 'pong');
      client.sendRaw({ type: 'hello' });
      await client.nextFrame((frame) => frame.type === 'error');
      const posted = await fetch(`${app.baseUrl}/api/v1/meal-logs/natural`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${tokenFor('asyncapi-user')}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ text: '1 small apple' }),
      });
      expect(posted.status).toBe(201);
      await client.nextFrame((frame) => frame.type === 'notification', 10_000);
      for (const frame of client.frames)
        expect(frameProblem('server', JSON.stringify(frame))).toBeNull();
    } finally {
      await client.close();
    }
  });
});

function notificationWith(mealLog: object): string {
  return JSON.stringify({ ...SERVER_FRAME_EXAMPLES.notification, data: mealLog });
}

function notificationFrameWith(fields: object): object {
  return {
    ...SERVER_FRAME_EXAMPLES.notification,
    data: { ...SERVER_FRAME_EXAMPLES.notification.data, ...fields },
  };
}
