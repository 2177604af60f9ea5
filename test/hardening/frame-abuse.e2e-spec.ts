import { NotificationRepository } from '../../src/notifications/notification.repository';
import { PresenceService } from '../../src/presence/presence.service';
import { expectStillServed } from '../support/bystander';
import { expectEventually } from '../support/expect-eventually';
import { api } from '../support/http-client';
import { encodeFrame, Opcode, RawPeer, rawSession } from '../support/raw-websocket';
import { startTestApp, TestApp } from '../support/test-app';
import { Frame, WsClient } from '../support/ws-client';

const MAX_PAYLOAD_BYTES = 65_536;
async function endReasons(app: TestApp, userId: string): Promise<(string | null)[]> {
  const rows = await app.dataSource.query<{ end_reason: string | null }[]>(
    `SELECT end_reason FROM ws_sessions WHERE user_id = $1`,
    [userId],
  );
  return rows.map((row) => row.end_reason);
}
const isPong = (frame: Frame) => frame.type === 'pong';
const errorFrame = (code: string) => ({ type: 'error', code });
const isError = (code: string) => (frame: Frame) => frame.type === 'error' && frame.code === code;

describe('WebSocket frame abuse', () => {
  let app: TestApp;
  let bystander: WsClient;
  const peers: RawPeer[] = [];
  const clients: WsClient[] = [];

  const session = async (userId: string) => {
    const peer = await rawSession(app.baseUrl, userId);
    peers.push(peer);
    return peer;
  };
  const client = async (userId: string) => {
    const opened = await WsClient.connect(app.baseUrl, { userId });
    clients.push(opened);
    return opened;
  };
  // Ids only: a failed assertion on live sessions would print (and diff) entire sockets.
  const sessionsOf = (userId: string) =>
    app.app
      .get(PresenceService)
      .localSessionsOf(userId)
      .map((s) => s.sessionId);

  beforeAll(async () => {
    app = await startTestApp({
      WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
      WS_HEARTBEAT_INTERVAL_MS: '60000',
    });
    bystander = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
  });
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.destroy();
    for (const opened of clients.splice(0)) opened.socket.terminate();
    await expectStillServed(bystander);
  });
  afterAll(async () => {
    await bystander.close();
    await app.close();
  });

  describe('protocol violations', () => {
    it('closes with 1007 on a text frame that is not UTF-8', async () => {
      const peer = await session('bad-utf8');
      peer.write(encodeFrame(Opcode.text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
      expect(await peer.closeCode()).toBe(1007);
      await expectEventually(() => expect(sessionsOf('bad-utf8')).toEqual([]));
    });

    it('closes with 1002 on an unmasked client frame', async () => {
      const peer = await session('unmasked');
      peer.write(encodeFrame(Opcode.text, '{"type":"ping"}', { masked: false }));
      expect(await peer.closeCode()).toBe(1002);
    });

    it.each([0x3, 0x7, 0xb, 0xf])('closes with 1002 on reserved opcode %i', async (opcode) => {
      const peer = await session(`opcode-${opcode}`);
      peer.write(encodeFrame(opcode, 'x'));
      expect(await peer.closeCode()).toBe(1002);
    });

    it('closes with 1002 on RSV bits without a negotiated extension', async () => {
      const peer = await session('rsv');
      peer.write(encodeFrame(Opcode.text, '{"type":"ping"}', { rsv: 0b100 }));
      expect(await peer.closeCode()).toBe(1002);
    });
  });

  describe('fragmentation', () => {
    const fragments = (text: string) =>
      Buffer.concat(
        [...text].map((char, i) =>
          encodeFrame(i === 0 ? Opcode.text : Opcode.continuation, char, {
            fin: i === text.length - 1,
          }),
        ),
      );

    it('reassembles a ping sent as one-byte fragments and answers it', async () => {
      const peer = await session('fragments-ok');
      peer.write(fragments('{"type":"ping"}'));
      const frame = await peer.frame();
      expect(JSON.parse(frame.payload.toString())).toMatchObject({ type: 'pong' });
    });

    it('closes with 1008 on 5,000 one-byte fragments (at most 1,024 are held)', async () => {
      const peer = await session('fragment-flood');
      const flood = [encodeFrame(Opcode.text, '{', { fin: false })];
      for (let i = 0; i < 5_000; i++)
        flood.push(encodeFrame(Opcode.continuation, ' ', { fin: false }));
      peer.write(Buffer.concat(flood));
      expect(await peer.closeCode()).toBe(1008);
    });

    it('closes with 1009 on a message over WS_MAX_PAYLOAD_BYTES sent in small fragments', async () => {
      const peer = await session('fragment-size');
      const piece = ' '.repeat(1_000);
      const frames = [encodeFrame(Opcode.text, piece, { fin: false })];
      for (let i = 0; i < 70; i++)
        frames.push(encodeFrame(Opcode.continuation, piece, { fin: false }));
      peer.write(Buffer.concat(frames));
      expect(await peer.closeCode()).toBe(1009);
    });
  });

  describe('floods', () => {
    it('terminates a protocol ping flood that never reads its pongs, once 60 pongs are pending', async () => {
      const peer = await session('ping-flood');
      peer.socket.pause();
      peer.write(Buffer.concat(Array.from({ length: 5_000 }, () => encodeFrame(Opcode.ping))));
      await expectEventually(() => expect(sessionsOf('ping-flood')).toEqual([]));
      // ws terminates without a close frame; the unread pings make the kernel reset the connection.
      peer.socket.resume();
      await peer.closed();
      await expectEventually(async () =>
        expect(await endReasons(app, 'ping-flood')).toEqual(['closed']),
      );
    });

    it('rate-limits a flood of invalid frames like any other, then closes it with 1008', async () => {
      const flooder = await client('garbage-flood');
      for (let i = 0; i < 400; i++) flooder.sendRaw('not json');
      expect((await flooder.closedWithin()).code).toBe(1008);
      expect(flooder.frames).toContainEqual(expect.objectContaining(errorFrame('invalid_json')));
      expect(flooder.frames).toContainEqual(expect.objectContaining(errorFrame('rate_limited')));
    });
  });

  describe('hostile JSON', () => {
    it('answers a ping nested 30,000 arrays deep (60 KB) with invalid_json and stays open', async () => {
      const deep = await client('deep-json');
      const depth = 30_000;
      deep.sendRaw(`{"type":"ping","x":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      await deep.nextFrame(isError('invalid_json'));
      deep.send({ type: 'ping' });
      await deep.nextNewFrame(isPong);
    });

    it.each([
      '{"type":"ping","__proto__":{"polluted":true}}',
      '{"type":"ping","constructor":{"prototype":{"polluted":true}}}',
      '{"type":"ack","seq":1,"x":{"__proto__":{"polluted":true}}}',
      '{"__proto__":{"type":"ping","polluted":true}}',
    ])('refuses %s with invalid_frame and pollutes nothing', async (text) => {
      const hostile = await client('pollution');
      hostile.sendRaw(text);
      await hostile.nextFrame(isError('invalid_frame'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('type');
    });
  });

  describe('ack', () => {
    it.each([
      ['negative', '{"type":"ack","seq":-1}'],
      ['fractional', '{"type":"ack","seq":1.5}'],
      ['a string', '{"type":"ack","seq":"1"}'],
      ['null', '{"type":"ack","seq":null}'],
      ['1e300', '{"type":"ack","seq":1e300}'],
      ['past 2^53', '{"type":"ack","seq":9007199254740993}'],
      ['a 400-digit number', `{"type":"ack","seq":${'9'.repeat(400)}}`],
    ])('refuses a %s seq with invalid_frame and stays open', async (_case, text) => {
      const acker = await client('absurd-ack');
      acker.sendRaw(text);
      await acker.nextFrame(isError('invalid_frame'));
      expect(acker.state()).toBe('open');
    });

    it('never acknowledges another user’s notifications, whatever seq is sent', async () => {
      const owner = await client('ack-owner');
      await api(app, 'ack-owner')
        .post('/api/v1/meal-logs/natural')
        .send({ text: '1 small apple' })
        .expect(201);
      const notification = await owner.nextFrame((frame) => frame.type === 'notification');
      const intruder = await client('ack-intruder');
      const written = jest.spyOn(app.app.get(NotificationRepository), 'acknowledgeUpTo');
      try {
        for (const seq of [notification.seq as number, 1, Number.MAX_SAFE_INTEGER])
          intruder.send({ type: 'ack', seq });
        // The owner's own ack comes after: once it is written, whatever the intruder's acks
        // queued has been written too (acks are written in the order they arrive).
        intruder.send({ type: 'ping' });
        await intruder.nextFrame((frame) => frame.type === 'pong');
        owner.send({ type: 'ack', seq: notification.seq as number });
        await expectEventually(() =>
          expect(written.mock.calls.flatMap(([acks]) => acks)).toContainEqual({
            userId: 'ack-owner',
            seq: notification.seq,
          }),
        );
        // An ack counts only up to what its session was sent, and the intruder was sent nothing.
        expect(
          written.mock.calls.flatMap(([acks]) => acks).filter((a) => a.userId === 'ack-intruder'),
        ).toEqual([]);
      } finally {
        written.mockRestore();
      }
      // Acknowledged by its owner alone, after the intruder tried (the spy saw the write start;
      // it commits a moment later).
      await expectEventually(async () => {
        const rows = await app.dataSource.query<{ acked_at: Date | null }[]>(
          `SELECT acked_at FROM notifications WHERE user_id = 'ack-owner'`,
        );
        expect(rows).toEqual([{ acked_at: expect.any(Date) }]);
      });
      expect(intruder.frames.filter((frame) => frame.type === 'notification')).toEqual([]);
    });
  });
});
