import fc from 'fast-check';
import Redis from 'ioredis';
import { ServiceInstance } from '../../src/common/service-instance';
import { Metrics } from '../../src/metrics/metrics';
import { expectStillServed } from '../support/bystander';
import { expectEventually } from '../support/expect-eventually';
import { api } from '../support/http-client';
import { InstancePair, startInstancePair } from '../support/instance-pair';
import { redisServerAvailable } from '../support/redis-server';
import { startUpRefusal } from '../support/child-app';
import { TEST_JWT_SECRET } from '../support/tokens';
import { Frame, WsClient } from '../support/ws-client';

const describeWithRedis = redisServerAvailable() ? describe : describe.skip;
const NATURAL = '/api/v1/meal-logs/natural';
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const isNotification = (frame: Frame) => frame.type === 'notification';

function redisUrlWithPassword(url: string, password: string | null): string {
  const parsed = new URL(url);
  parsed.password = password ?? '';
  return parsed.toString();
}

/** A notification message as an instance would send it, for the user given. */
function validMessage(userId: string, seq = 1): Record<string, unknown> {
  const at = new Date().toISOString();
  return {
    notifications: [
      {
        userId,
        notification: {
          id: '7a1de4c6-3c39-4a7e-9d0a-0d5f7b0d6a11',
          seq,
          event: 'meal_log.completed',
          data: {
            id: '3f0b6f55-2a7a-4d8e-b1f1-5b8f6f2d9c01',
            status: 'completed',
            text: 'an apple',
            mealType: null,
            loggedAt: at,
            createdAt: at,
            completedAt: at,
            items: [],
            totals: { calories: 1, proteinG: 0, carbsG: 0, fatG: 0 },
            unrecognized: [],
            error: null,
          },
          createdAt: at,
        },
      },
    ],
    committedAt: Date.now(),
  };
}

/** `value` with the field at `path` replaced (or removed, for `undefined`). */
function withField(value: Record<string, unknown>, path: string[], field: unknown): unknown {
  const copy = structuredClone(value);
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (field === undefined) delete target[last];
  else target[last] = field;
  return copy;
}

describeWithRedis('messages from Redis are what MealPulse wrote', () => {
  let pair: InstancePair;
  let publisher: Redis;
  let channel: string;

  beforeAll(async () => {
    pair = await startInstancePair({}, { redisPassword: 'redis-pass-0123456789' });
    publisher = new Redis(pair.a.config.redis.url!);
    channel = `pair:instance:${pair.b.app.get(ServiceInstance).id}`;
  });

  afterAll(async () => {
    publisher.disconnect();
    await pair.close();
  });

  async function dropped(): Promise<number> {
    const { values } = await pair.b.app.get(Metrics).redisMessagesDropped.get();
    return values.reduce((sum, { value }) => sum + value, 0);
  }

  /** Publishes to B's own channel and waits until B has counted every one as dropped. */
  async function publishHostile(texts: string[]): Promise<void> {
    const before = await dropped();
    for (const text of texts) expect(await publisher.publish(channel, text)).toBe(1);
    await expectEventually(async () => expect(await dropped()).toBe(before + texts.length));
  }

  const valid = validMessage('victim');
  const envelope = (topic: string, message: unknown) => JSON.stringify({ topic, message });
  const notification = ['notifications', '0', 'notification'];
  const listed: [string, string][] = [
    ['not JSON', 'not json'],
    ['an empty string', ''],
    ['a JSON array', '[]'],
    ['null', 'null'],
    ['an envelope without a message', '{"topic":"notifications"}'],
    ['an unknown topic', envelope('drop_tables', {})],
    ['a __proto__ topic', envelope('__proto__', {})],
    ['a __proto__ key', '{"__proto__":{"polluted":true},"topic":"notifications","message":{}}'],
    ['no committedAt', envelope('notifications', withField(valid, ['committedAt'], undefined))],
    ['seq as a string', envelope('notifications', withField(valid, [...notification, 'seq'], '1'))],
    ['seq past 2^53', envelope('notifications', withField(valid, [...notification, 'seq'], 1e300))],
    [
      'an unknown event',
      envelope('notifications', withField(valid, [...notification, 'event'], 'x')),
    ],
    [
      'no data.items',
      envelope('notifications', withField(valid, [...notification, 'data', 'items'], undefined)),
    ],
    [
      'an extra field',
      envelope('notifications', withField(valid, [...notification, 'data', 'isAdmin'], true)),
    ],
    [
      'a date that is no instant',
      envelope('notifications', withField(valid, [...notification, 'createdAt'], 'yesterday')),
    ],
    [
      'a numeric userId',
      envelope('notifications', withField(valid, ['notifications', '0', 'userId'], 42)),
    ],
    [
      'end_session with a numeric sessionId',
      envelope('end_session', { sessionId: 1, reason: 'replaced' }),
    ],
    [
      'end_session for another reason',
      envelope('end_session', { sessionId: 'x', reason: 'stale' }),
    ],
  ];

  it.each(listed)('drops %s: counted, never delivered, B keeps serving', async (_case, text) => {
    const victim = await WsClient.connect(pair.b.baseUrl, { userId: 'victim', deviceId: 'phone' });
    try {
      await publishHostile([text]);
      expect(victim.frames.filter(isNotification)).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await expectStillServed(victim);
    } finally {
      await victim.close();
    }
  });

  it('drops every arbitrary JSON value sent as either topic (property)', async () => {
    const victim = await WsClient.connect(pair.b.baseUrl, { userId: 'victim', deviceId: 'phone' });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('notifications', 'end_session'),
          fc.jsonValue(),
          async (topic, message) => {
            await publishHostile([envelope(topic, message)]);
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
      expect(victim.frames.filter(isNotification)).toEqual([]);
      await expectStillServed(victim);
    } finally {
      await victim.close();
    }
  });

  it('still delivers what another instance really sent, through a Redis that requires a password', async () => {
    const before = await dropped();
    const user = await WsClient.connect(pair.b.baseUrl, { userId: 'real-user' });
    try {
      const { body } = await api(pair.a, 'real-user').post(NATURAL).send({ text: 'an apple' });
      const frame = await user.nextFrame(isNotification);
      expect(frame).toMatchObject({ seq: 1, data: { id: body.id } });
      expect(await dropped()).toBe(before);
    } finally {
      await user.close();
    }
  });

  it.each([
    ['a wrong password', 'wrong-pass-9876543210', 'WRONGPASS'],
    ['no password', null, 'NOAUTH'],
  ])(
    'refuses to start with %s in REDIS_URL, in one line naming it',
    async (_case, password, answer) => {
      const { code, stderr } = await startUpRefusal({
        DATABASE_URL: pair.a.databaseUrl,
        JWT_SECRET: TEST_JWT_SECRET,
        REDIS_URL: redisUrlWithPassword(pair.a.config.redis.url!, password),
      });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        `Invalid configuration: REDIS_URL was refused by Redis (${answer}): check the user and password in it`,
      ]);
      expect(stderr).not.toContain('redis-pass-0123456789');
    },
  );
});
