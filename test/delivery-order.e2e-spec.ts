import { ClusterBus } from '../src/cluster/cluster-bus.port';
import type { ClusterTopic } from '../src/cluster/cluster-topic';
import { NotificationRepusher } from '../src/notifications/notification.repusher';
import type { LiveSession } from '../src/presence/live-session';
import { PresenceService } from '../src/presence/presence.service';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { expectLedgerBalanced, receivedByClients } from './support/ledger';
import { InstancePair, startInstancePair } from './support/instance-pair';
import { redisServerAvailable } from './support/redis-server';
import { startTestApp, TestApp } from './support/test-app';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const isNotification = (frame: Frame) => frame.type === 'notification';
const received = (client: WsClient) =>
  client.frames
    .filter(isNotification)
    .map((f) => ({ seq: f.seq, id: (f.data as { id: string }).id }));

async function postMeal(app: TestApp, userId: string, text: string): Promise<string> {
  return (await api(app, userId).post(NATURAL).send({ text }).expect(201)).body.id as string;
}

async function ackedSeqs(app: TestApp, userId: string): Promise<number[]> {
  const rows = await app.dataSource.query<{ seq: number }[]>(
    `SELECT seq::int AS seq FROM notifications WHERE user_id = $1 AND acked_at IS NOT NULL
     ORDER BY seq`,
    [userId],
  );
  return rows.map((row) => row.seq);
}

/** How each of the user's notifications was written to its sessions (`via`), oldest first. */
async function deliveredVia(app: TestApp, userId: string): Promise<string[][]> {
  const { body } = await api(app, 'root', { roles: ['admin'] })
    .get(`/api/v1/admin/users/${userId}/notifications`)
    .expect(200);
  return (body.items as { sessions: { via: string }[] }[])
    .map((item) => item.sessions.map((session) => session.via))
    .reverse();
}

/** Every device of `userId` received every notification of the user, and nothing else. */
async function expectEveryDeviceHasAll(app: TestApp, userId: string, devices: WsClient[]) {
  for (const device of devices)
    await expectLedgerBalanced(
      app.databaseUrl,
      receivedByClients([{ userId, frames: device.frames }]),
      {
        userPrefix: userId,
      },
    );
}

/**
 * Makes the next live delivery of `userId`'s notification on this instance find no session, as
 * if the process had skipped the write (a session list read at the wrong moment, a bug).
 */
function skipNextLiveWrite(app: TestApp, userId: string): { skipped: () => number } {
  const presence = app.app.get(PresenceService);
  const original = presence.localSessionsOf.bind(presence);
  let skipped = 0;
  const spy = jest.spyOn(presence, 'localSessionsOf').mockImplementation((id): LiveSession[] => {
    if (id !== userId || skipped > 0) return original(id);
    skipped++;
    spy.mockRestore();
    return [];
  });
  return { skipped: () => skipped };
}

describe('gap-free delivery on one instance', () => {
  let app: TestApp;
  beforeAll(async () => {
    // The periodic catch-up only when the test runs it.
    app = await startTestApp({ NOTIFICATION_REPUSH_INTERVAL_MS: '3600000' });
  });
  afterAll(() => app.close());

  it('writes a notification whose live write was skipped before the next one, in seq order', async () => {
    const phone = await WsClient.connect(app.baseUrl, { userId: 'gap-one', deviceId: 'phone' });
    try {
      // A first notification received live: the session's replay is over, so the skipped one
      // below cannot arrive by the replay instead.
      const first = await postMeal(app, 'gap-one', 'toast');
      await phone.nextFrame((f) => isNotification(f) && f.seq === 1);
      const skip = skipNextLiveWrite(app, 'gap-one');
      const skipped = await postMeal(app, 'gap-one', 'an egg');
      await expectEventually(() => expect(skip.skipped()).toBe(1));
      expect(received(phone)).toEqual([{ seq: 1, id: first }]);
      const third = await postMeal(app, 'gap-one', 'a banana');
      await phone.nextFrame((f) => isNotification(f) && f.seq === 3);
      expect(received(phone)).toEqual([
        { seq: 1, id: first },
        { seq: 2, id: skipped },
        { seq: 3, id: third },
      ]);
      // The skipped one was read from the outbox to fill the gap before the third. The first
      // came live, or with the session's replay when it completed before the replay's read.
      await expectEventually(async () => {
        const [firstVia, ...rest] = await deliveredVia(app, 'gap-one');
        expect([['live'], ['replay']]).toContainEqual(firstVia);
        expect(rest).toEqual([['gap'], ['live']]);
      });
    } finally {
      await phone.close();
    }
  });

  it('counts an ack only up to what its session was sent, and catches the session up later', async () => {
    const phone = await WsClient.connect(app.baseUrl, { userId: 'gap-ack', deviceId: 'phone' });
    try {
      await postMeal(app, 'gap-ack', 'an egg');
      await phone.nextFrame(isNotification);
      const skip = skipNextLiveWrite(app, 'gap-ack');
      const missed = await postMeal(app, 'gap-ack', 'a pear');
      await expectEventually(() => expect(skip.skipped()).toBe(1));
      // A client that acks what it never got (a bug, or a stale cursor): only seq 1 is its to ack.
      phone.send({ type: 'ack', seq: 2 });
      await expectEventually(async () => expect(await ackedSeqs(app, 'gap-ack')).toEqual([1]));

      // Nothing follows it, so the periodic catch-up finds it (once it is older than a moment).
      await expectEventually(
        async () => {
          await app.app.get(NotificationRepusher).runOnce();
          expect(received(phone)).toEqual([
            expect.objectContaining({ seq: 1 }),
            { seq: 2, id: missed },
          ]);
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      phone.send({ type: 'ack', seq: 2 });
      await expectEventually(async () => expect(await ackedSeqs(app, 'gap-ack')).toEqual([1, 2]));
      await expectEventually(async () => {
        // The first came live, or with the replay when it completed before the replay's read.
        const [firstVia, ...rest] = await deliveredVia(app, 'gap-ack');
        expect([['live'], ['replay']]).toContainEqual(firstVia);
        expect(rest).toEqual([['catch_up']]);
      });
    } finally {
      await phone.close();
    }
  });
});

const describeWithRedis = redisServerAvailable() ? describe : describe.skip;

describeWithRedis('gap-free delivery across instances', () => {
  let pair: InstancePair;
  /** A runs the workers; B only holds sockets, so every notification B delivers comes from A. */
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    pair = await startInstancePair({ NOTIFICATION_REPUSH_INTERVAL_MS: '3600000' });
    ({ a, b } = pair);
  }, 60_000);

  afterAll(() => pair?.close());

  /** The user's tablet on A and phone on B, once A sees the phone (so it publishes to B). */
  async function devices(userId: string): Promise<{ tablet: WsClient; phone: WsClient }> {
    const tablet = await WsClient.connect(a.baseUrl, { userId, deviceId: 'tablet' });
    const phone = await WsClient.connect(b.baseUrl, { userId, deviceId: 'phone' });
    await expectEventually(async () =>
      expect(
        (await a.app.get(PresenceService).placementsOf(userId)).map((p) => p.deviceId).sort(),
      ).toEqual(['phone', 'tablet']),
    );
    return { tablet, phone };
  }

  it('delivers, before a later one, a notification whose message to the instance was lost, although another device acked it', async () => {
    const { tablet, phone } = await devices('lost-message');
    const bus = a.app.get(ClusterBus);
    const dropped: ClusterTopic<unknown>[] = [];
    const spy = jest.spyOn(bus, 'send').mockImplementationOnce((_instance, topic) => {
      dropped.push(topic); // handed to Redis as far as A knows, and never arrives
      return Promise.resolve(true);
    });
    try {
      const first = await postMeal(a, 'lost-message', 'an egg');
      const onTablet = await tablet.nextFrame(isNotification);
      expect(dropped).toMatchObject([{ name: 'notifications' }]);
      // The tablet acknowledges seq 1 before the phone has it.
      tablet.send({ type: 'ack', seq: onTablet.seq as number });
      await expectEventually(async () => expect(await ackedSeqs(a, 'lost-message')).toEqual([1]));
      expect(received(phone)).toEqual([]);

      const second = await postMeal(a, 'lost-message', 'a banana');
      await phone.nextFrame((f) => isNotification(f) && f.seq === 2);
      expect(received(phone)).toEqual([
        { seq: 1, id: first },
        { seq: 2, id: second },
      ]);
      phone.send({ type: 'ack', seq: 2 });
      await tablet.nextFrame((f) => isNotification(f) && f.seq === 2);
      await expectEventually(async () =>
        expect(await ackedSeqs(a, 'lost-message')).toEqual([1, 2]),
      );
      await expectEveryDeviceHasAll(a, 'lost-message', [tablet, phone]);
    } finally {
      spy.mockRestore();
      await Promise.all([tablet.close(), phone.close()]);
    }
  });

  it('keeps seq order when a later notification’s message overtakes an earlier one, and writes each once', async () => {
    const { tablet, phone } = await devices('overtaken');
    const bus = a.app.get(ClusterBus);
    const send = bus.send.bind(bus);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(bus, 'send').mockImplementationOnce(async (instance, topic, message) => {
      await held; // a slow path through Redis for the first message only
      return send(instance, topic, message);
    });
    try {
      const first = await postMeal(a, 'overtaken', 'an egg');
      await tablet.nextFrame(isNotification);
      const second = await postMeal(a, 'overtaken', 'a banana');
      await phone.nextFrame((f) => isNotification(f) && f.seq === 2);
      expect(received(phone)).toEqual([
        { seq: 1, id: first },
        { seq: 2, id: second },
      ]);
      // The held message arrives late and is recognised as sent already. A third one published
      // after it on the same channel arrives after it too: once it is here, the late one was seen.
      release();
      const third = await postMeal(a, 'overtaken', 'a pear');
      await phone.nextFrame((f) => isNotification(f) && f.seq === 3);
      expect(spy).toHaveBeenCalledTimes(3);
      expect(received(phone)).toEqual([
        { seq: 1, id: first },
        { seq: 2, id: second },
        { seq: 3, id: third },
      ]);
      await expectEveryDeviceHasAll(a, 'overtaken', [tablet, phone]);
    } finally {
      release();
      spy.mockRestore();
      await Promise.all([tablet.close(), phone.close()]);
    }
  });
});
